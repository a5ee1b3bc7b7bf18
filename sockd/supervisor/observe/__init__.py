"""Observing the cluster from the master: the metrics (Prometheus), the health answer for
load balancers, and the figures behind them, each worker's kept after it is gone."""
