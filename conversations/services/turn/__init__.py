"""The stages of one chat turn, each in a module of its own with one entry function.

``conversations.services.pipeline.chat_turn_run`` runs them in this order (ARCHITECTURE.md,
"One chat turn"); data moves forward once in a :class:`~.state.Turn`:

1. ``persist.message_store``  the user's message, in its own transaction, before anything else
2. ``screen.screen``          safety: classifier, rule net, optional judge, nearest exemplar
3. ``route.route``            emergency, a safety-check-mode answer, or a reply on a flow step
4. ``generate.generate``      the reply's words: fixed safety texts, or the generator with
                              approved content as its fallback
5. ``label.label``            the reply's intent
6. ``filter.filter_reply``    the response filter's hard lines
7. ``persist.turn_persist``   the assessment, the session's new state and the reply, in one
                              transaction under the session's lock
"""
