"""Socket ids that carry the user named in the handshake query (async on purpose)."""

import asyncio
import secrets


async def generate_id(request):
    await asyncio.sleep(0)
    return f"{request.query.get('user', 'anon')}-{secrets.token_hex(6)}"
