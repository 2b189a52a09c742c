"""The chat API (``/api/v1/``), one module per use case. One view per operation; each calls
one service. Users only ever see their own sessions: anyone else's session id is a 404.
"""
