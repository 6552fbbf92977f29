"""Who may see what, when the server requires API keys.

Every job and stored file records its owner: a short, non-reversible
fingerprint of the API key that created it (never the key itself). With keys
configured (``--api-key``), one key cannot check another key's jobs nor delete
another key's files: to that key they answer exactly as if they did not exist
(``unknown`` job, 404 file), so ids cannot be probed. Without keys (Cloud API
Server mode, the default) everything is one tenant.

Downloads are deliberately not keyed: per the protocol, a result or upload URL
(``/files/<id>/<name>``, the id being 32 random URL-safe characters, 192 bits)
is a capability — whoever holds it may fetch it until it expires, which is how
clients hand results to browsers and other services.
"""

from __future__ import annotations


def visible_to(record_owner: str | None, requester: str | None, *, keys_required: bool) -> bool:
    """Whether ``requester`` (a key fingerprint) may see a job or file of ``record_owner``."""
    if not keys_required or record_owner is None:
        return True
    return record_owner == requester
