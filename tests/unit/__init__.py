"""The fast layer: pure logic and in-process components, no sockd processes (under 30 s)."""
