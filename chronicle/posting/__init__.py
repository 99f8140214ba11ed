"""Anniversary posts: what is due (anniversaries), exactly once (service), when (runner).

Modules: ``anniversaries`` (due computation, per-channel texts), ``posttext`` (templates and
fitting a text to a channel's limit), ``events`` (the post events, review included, and their
fold), ``service`` (draft, claim, publish, reconcile), ``review`` (queue, approve, hold, edit),
``rehearsal`` (rehearse a day, preflight), ``alerts`` (Apprise, once per cause) and
``reminders`` (what the operator is told), ``channels`` (publishers from settings),
``wakeups`` (APScheduler), ``leadership`` (one active replica), ``runner``
(``start_scheduler``, the leader watch), ``statuses`` (where posts stand, from the posts
read model), ``clock`` (injectable time and the ``CHRONICLE_FAKE_NOW`` rehearsal clock).
"""
