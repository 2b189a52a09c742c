"""Pages of the clinician workspace, one module per use case. They work without JavaScript
(forms post here and redirect to the next item); ``static/js/workspace.js`` adds keyboard
shortcuts and loads the next item through the API without a full page reload (it swaps in
``?fragment=1`` of the item page)."""
