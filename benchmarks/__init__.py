"""Benchmarks: tinygraph side by side with hand-written numpy and PyTorch.

Run the whole suite with `python -m benchmarks.run` (see the README's "Benchmarks").
"""
