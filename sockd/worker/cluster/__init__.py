"""Cluster-wide queries and commands (``sockd.cluster``): requests to the other workers,
on this host over the master or on every host over Redis, with a known set of answerers.

``members.py`` names who answers, ``results.py`` is what a call returns, ``pending.py``
keeps the requests out (who must still answer, deadlines, bounds), ``local.py`` answers
for this worker's own sockets, ``answerer.py`` answers the others, ``requester.py`` asks,
``ipc_transport.py`` and ``redis_transport.py`` carry both, ``attach.py`` sets a worker's
cluster up.
"""
