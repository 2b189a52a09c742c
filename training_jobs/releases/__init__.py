"""Releases: stage, gate, promote, roll back and watch what users receive (docs/releases.md).

The chat runtime reads the release and arm of a turn through ``conversations.rollout``; this
package is the management side: ``services`` (create, promote, roll back, override, bootstrap),
``gate`` (the computed checklist), ``monitor`` (per-arm metrics, the tests, automatic rollback),
``registry`` (the active model versions that follow the live release) and ``selectors``.
"""
