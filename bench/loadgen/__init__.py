"""A thin Engine.IO/Socket.IO load generator on asyncio protocols.

Hand-rolled on purpose: a full client library (python-socketio's, aiohttp's) spends more CPU
per message than the servers it drives, and on a 2-core machine the generator would then be
what is measured.
"""
