"""Policy checks: the Japanese step library (:mod:`.steps`, :mod:`.outcomes`, with :mod:`.scene` and
:mod:`.parse`), the pytest plugin that ships it (:mod:`.plugin`, entry point ``ijime_flow``) and
``ijime-flow check`` (:mod:`.check`)."""
