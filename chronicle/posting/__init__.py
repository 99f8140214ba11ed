"""Anniversary posts: what is due (anniversaries), exactly once (service), when (runner).

Modules: ``anniversaries`` (due computation, texts), ``events`` (the post events and their
fold), ``service`` (claim, publish, reconcile), ``channels`` (publishers from settings),
``wakeups`` (APScheduler), ``leadership`` (one active replica), ``runner``
(``start_scheduler``), ``queries`` (the posts read model), ``clock`` (injectable time and the
``CHRONICLE_FAKE_NOW`` rehearsal clock).
"""
