"""Policy checks: the Japanese step library (:mod:`.steps`, :mod:`.outcomes`, with :mod:`.scene` and
:mod:`.parse`; each step declared once as a phrase, :mod:`.phrases`, all of them in :mod:`.library`), run
in-process by ``ijime-flow check`` (:mod:`.check`, :mod:`.runner`) and under pytest by the plugin that
ships it (:mod:`.plugin`, :mod:`.bdd`, entry point ``ijime_flow``).

Policy rules as data (:mod:`.rules`), checked on every reachable configuration (:mod:`.explore` walks
them with the engine's own stepper; :mod:`.rule_check`, :mod:`.static_checks` and
:mod:`.escalation_check` judge each rule; :mod:`.counterexample` writes the shortest breaking steps as
a scenario; :mod:`.rule_report` renders them for the command). Mutation testing of the checks:
:mod:`.mutants` (with :mod:`.mutant_kinds`, :mod:`.mutant_context`) makes rule-breaking copies of a
workflow and :mod:`.mutation` scores the rules against them (``ijime-flow mutate``)."""
