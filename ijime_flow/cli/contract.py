"""``ijime-flow contract``: the contract ids of the procedure, as shipped in the package.

``register(sub)`` adds the command to the main parser's subcommands. It prints the roles and, per
workflow, the states, regions, triggers, actions, facts and criteria that embedding systems, features
and audits rely on (:mod:`ijime_flow.policy.contract`), Japanese first and English beside; ``--json``
prints the same as JSON. Exit 0; an unknown ``--workflow`` is unusable input (the main command prints
it and exits 2).
"""

from __future__ import annotations

import argparse
import json

from ..policy.contract import contract_json, load_contract, render_contract

EXIT_OK = 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "contract",
        help="手順の契約 ID（役割・状態・操作・事実）を示す / print the procedure's contract ids (roles, states,"
             " triggers, facts)",
        description="組み込むシステム・機能・監査が頼りにする契約 ID（役割、ワークフローごとの状態・並行する対応・操作・"
                    "随時の操作・事実・重大事態の要件）を、方針の出典と強さ（義務 must・望ましい should）とともに示す。"
                    " / Print the contract ids that embedding systems, features and audits rely on (roles; per"
                    " workflow its states, regions, triggers, actions, facts and serious-incident criteria), each with"
                    " its policy source and strength (must / should).",
    )
    p.add_argument("--workflow", metavar="ID",
                   help="このワークフローの契約だけを示す（response, serious_incident, school_year） / only this"
                        " workflow's contract (response, serious_incident, school_year)")
    p.add_argument("--json", action="store_true", help="機械可読の出力 / machine-readable output")
    p.set_defaults(run=run_contract)


def run_contract(args: argparse.Namespace) -> int:
    contract = load_contract()
    if args.json:
        print(json.dumps(contract_json(contract, args.workflow), ensure_ascii=False, indent=2))
    else:
        print("\n".join(render_contract(contract, args.workflow)))
    return EXIT_OK
