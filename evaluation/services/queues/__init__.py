"""Work queues, one module per use case: taking work and its locks (``work``), filling the
review queue (``review``) and the labelling queues by active learning (``labelling``), and
refreshing them all (``refresh``)."""
