"""Networks built on tinygraph, their training, and the `tinygraph` command line.

`tinygraph` (the engine) knows nothing of this package.
"""
