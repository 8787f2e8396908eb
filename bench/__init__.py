"""biotoets benchmarks: ``python -m bench`` (see ``bench/__main__.py`` and ``bench/RESULTS.md``).

Benchmarks measure and report; they never assert timings. Everything is run side
by side in one process run and reported as ratios, with the machine it ran on.
"""
