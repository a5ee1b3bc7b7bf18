"""Where the app processes' CPU goes, per layer, while a benchmark scenario runs
(``python -m bench.profile``)."""
