// Cold start reference: a Node process that imports nothing.
