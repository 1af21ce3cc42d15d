"""Side-by-side benchmarks of ``stars`` against what a user would otherwise pick.

Run ``python -m benchmarks`` (``make bench``) for the full sizes, which writes
``benchmarks/results.md``, or ``python -m benchmarks --quick`` (a tenth of the size,
writes ``benchmarks/results-quick.md``). ``--smoke`` (a hundredth) is what the test
suite runs so the benchmarks never rot; it writes ``results-quick.md`` too (both are throwaways).

Every figure is a median of repeated runs; every comparison is a ratio of the
``stars`` figure to the alternative's, so below 1 means ``stars`` is faster (or
smaller). Nothing here asserts on time.
"""
