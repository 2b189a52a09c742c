"""Understanding a user's message offline (no LLM): the feeling (``emotions``), the topic, the
user's key phrase and the answer to Ari's last question. Each is its own module; import what
you use (``from conversations.understanding.emotions import feeling_of``)."""
