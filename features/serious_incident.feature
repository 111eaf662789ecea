# language: ja
@serious_incident
機能: 重大事態への対処（学校いじめ防止基本方針 7）
  学校いじめ防止基本方針の「7 重大事態への対処」を、ワークフローが守っていることを確かめる。
  学校の方針に書かれていない点は、いじめ防止対策推進法（28条・30条）と文部科学省の
  「いじめの重大事態の調査に関するガイドライン」（2024年改訂）で補っている。
  どの学校のワークフローでも、同じ契約上の状態・操作の名前を使っていれば、この機能ファイルで確かめられる:
    ijime-flow check --workflow その学校のワークフロー.yaml

  背景:
    前提 ワークフロー "workflows/serious_incident.yaml" を読み込む

  # ---------------------------------------------------------------- 7(2) 重大事態の発生と報告

  @7-2 @7-3
  シナリオ: 学校を調査主体とした重大事態を、発生報告から措置・終結まで行い、記録は検証に合格する
    前提 2019年6月3日 9:00 に 校長 が事案を criterion=serious_harm で開く
    もし 次の操作を順に行う:
      | 日付             | 役割       | 操作                     | データ                                                                                              |
      | 2019-06-03 09:05 | 校長       | 事実:serious_harm        | injury                                                                                              |
      | 2019-06-03 10:00 | 校長       | report_occurrence        |                                                                                                     |
      | 2019-06-03 15:00 | 教育委員会 | inform_mayor             |                                                                                                     |
      | 2019-06-04 10:00 | 教育委員会 | assign_school            |                                                                                                     |
      | 2019-06-04 16:00 | 校長       | explain_outline          | date="2019-06-04", place="被害生徒宅", content="調査を行うことと調査の目的"                        |
      | 2019-06-05 10:00 | 教育委員会 | support_school_investigation |                                                                                                 |
      | 2019-06-10 10:00 | 校長       | form_organisation        | third_party_members=2                                                                               |
      | 2019-06-12 16:00 | 校長       | explain_in_advance       | date="2019-06-12", place="校長室", content="調査の目的・組織・事項と方法・結果の提供・個人情報の扱い", questionnaire_disclosure=true |
      | 2019-06-13 09:00 | 対策委員会 | start_investigation      |                                                                                                     |
      | 2019-06-13 10:00 | 対策委員会 | reanalyse_materials      |                                                                                                     |
      | 2019-06-17 10:00 | 対策委員会 | conduct_survey           | method="全校生徒へのアンケート"                                                                     |
      | 2019-06-28 17:00 | 校長       | report_progress          | content="アンケートの集計状況と今後の聴き取りの予定"                                                |
      | 2019-07-19 10:00 | 校長       | report_results           | victim_opinion=attached                                                                             |
      | 2019-07-19 15:00 | 教育委員会 | forward_results_to_mayor |                                                                                                     |
      | 2019-07-22 16:00 | 校長       | explain_results          |                                                                                                     |
      | 2019-07-25 10:00 | 校長       | take_measures            | measures="被害生徒の別室学習と見守り体制、加害生徒への継続指導、全校での再発防止の取組"             |
    かつ 2019年9月2日 に 教育委員会 が "close" を行う
    ならば 状態は "closed" である
    かつ 2019年6月3日 23:00 時点で期限 "occurrence_report_same_day" は 期限内に実施 である
    かつ 記録は検証に合格する

  @7-2
  シナリオ: 重大事態の発生は校長が即日教育委員会へ報告する（教職員は報告できない）
    前提 2019年6月3日 9:00 に 校長 が事案を criterion=serious_harm で開く
    もし 2019年6月3日 9:30 に 教職員 が "report_occurrence" を行う
    ならば "権限がない" として拒否される
    かつ 拒否の理由に "principal" が含まれる
    もし 2019年6月3日 17:00 に 校長 が "report_occurrence" を行う
    ならば 状態は "reported_to_board" である
    かつ 2019年6月3日 23:59 時点で期限 "occurrence_report_same_day" は 期限内に実施 である

  @7-2
  シナリオ: 発生報告をしないまま日をまたぐと期限超過になり、翌日の報告は期限後の実施として記録される
    前提 2019年6月3日 9:00 に 校長 が事案を criterion=serious_harm で開く
    ならば 2019年6月3日 20:00 時点で期限 "occurrence_report_same_day" は 期限前 である
    かつ 2019年6月4日 0:00 時点で期限 "occurrence_report_same_day" は 期限超過 である
    もし 2019年6月4日 9:00 に 校長 が "report_occurrence" を行う
    ならば 受け付けられる
    かつ 2019年6月4日 9:30 時点で期限 "occurrence_report_same_day" は 期限後に実施 である

  @7-2 @7-3
  シナリオ: 市長等への報告の前に調査主体は決められず、調査主体を決めるのは教育委員会である
    前提 2019年6月3日 9:00 に 校長 が事案を criterion=serious_harm で開く
    かつ 次の操作を順に行う:
      | 日付             | 役割 | 操作              |
      | 2019-06-03 10:00 | 校長 | report_occurrence |
    もし 2019年6月3日 11:00 に 教育委員会 が "assign_school" を行う
    ならば "行えない操作" として拒否される
    かつ 拒否の理由に "inform_mayor" が含まれる
    もし 2019年6月3日 15:00 に 教育委員会 が "inform_mayor" を行う
    かつ 2019年6月4日 10:00 に 校長 が "assign_school" を行う
    ならば "権限がない" として拒否される
    もし 2019年6月4日 10:30 に 教育委員会 が "assign_school" を行う
    ならば 状態は "school_investigation.organising" である

  @7-2
  シナリオ: 申立てがあれば、学校が異なる見解でも重大事態として扱い、学校の見解は記録される
    前提 2019年6月3日 9:00 に 教育委員会 が事案を criterion=petition で開く
    もし 2019年6月3日 9:10 に 教育委員会 が事実 "petition" を guardians と記録する
    かつ 2019年6月3日 11:00 に 校長 が事実 "school_view" を "現時点ではいじめとの因果関係は確認できていない" と記録する
    ならば 受け付けられる
    もし 2019年6月3日 13:00 に 校長 が "report_occurrence" を行う
    ならば 受け付けられる
    かつ 状態は "reported_to_board" である
    もし 2019年6月3日 15:00 に 教育委員会 が "inform_mayor" を行う
    かつ 2019年6月4日 10:00 に 教育委員会 が "assign_school" を行う
    ならば 状態は "school_investigation" である
    かつ 2019年6月3日 23:00 時点で期限 "occurrence_report_same_day" は 期限内に実施 である
    かつ 記録は検証に合格する

  # ---------------------------------------------------------------- 7(3)① 学校を調査主体とした場合

  @7-3
  シナリオ: 第三者が参加しない調査組織は構成できない（公平性・中立性の確保）
    前提 2019年6月3日 9:00 に 校長 が事案を criterion=serious_harm で開く
    かつ 次の操作を順に行う:
      | 日付             | 役割       | 操作              |
      | 2019-06-03 10:00 | 校長       | report_occurrence |
      | 2019-06-03 15:00 | 教育委員会 | inform_mayor      |
      | 2019-06-04 10:00 | 教育委員会 | assign_school     |
    もし 2019年6月10日 10:00 に 校長 が "form_organisation" を third_party_members=0 で行う
    ならば "条件を満たさない" として拒否される
    かつ 拒否の理由に "第三者" が含まれる
    かつ 状態は "school_investigation.organising" である
    もし 2019年6月10日 11:00 に 校長 が "form_organisation" を third_party_members=1 で行う
    ならば 状態は "school_investigation.organised" である

  @7-3
  シナリオ: 被害児童生徒・保護者への事前説明の前に調査を始めることはできない
    前提 2019年6月3日 9:00 に 校長 が事案を criterion=serious_harm で開く
    かつ 次の操作を順に行う:
      | 日付             | 役割       | 操作              | データ                |
      | 2019-06-03 10:00 | 校長       | report_occurrence |                       |
      | 2019-06-03 15:00 | 教育委員会 | inform_mayor      |                       |
      | 2019-06-04 10:00 | 教育委員会 | assign_school     |                       |
      | 2019-06-10 10:00 | 校長       | form_organisation | third_party_members=1 |
    もし 2019年6月11日 9:00 に 対策委員会 が "start_investigation" を行う
    ならば "行えない操作" として拒否される
    かつ 拒否の理由に "explain_in_advance" が含まれる
    かつ 状態は "school_investigation.organised" である

  @7-3
  シナリオ: 事前説明はアンケート結果を被害側に提供する場合があることを含め、日時・場所・内容を記録して行う
    前提 2019年6月3日 9:00 に 校長 が事案を criterion=serious_harm で開く
    かつ 次の操作を順に行う:
      | 日付             | 役割       | 操作              | データ                |
      | 2019-06-03 10:00 | 校長       | report_occurrence |                       |
      | 2019-06-03 15:00 | 教育委員会 | inform_mayor      |                       |
      | 2019-06-04 10:00 | 教育委員会 | assign_school     |                       |
      | 2019-06-10 10:00 | 校長       | form_organisation | third_party_members=1 |
    もし 2019年6月12日 16:00 に 校長 が "explain_in_advance" を date="2019-06-12", place="校長室", content="調査の目的・組織・方法" で行う
    ならば "データ不備" として拒否される
    かつ 拒否の理由に "questionnaire_disclosure" が含まれる
    もし 2019年6月12日 16:05 に 校長 が "explain_in_advance" を date="2019-06-12", content="調査の目的・組織・方法", questionnaire_disclosure=true で行う
    ならば "データ不備" として拒否される
    かつ 拒否の理由に "place" が含まれる
    もし 2019年6月12日 16:10 に 校長 が "explain_in_advance" を date="2019-06-12", place="校長室", content="調査の目的・組織・方法", questionnaire_disclosure=false で行う
    ならば "条件を満たさない" として拒否される
    かつ 拒否の理由に "アンケート" が含まれる
    もし 2019年6月12日 16:15 に 校長 が "explain_in_advance" を date="2019-06-12", place="校長室", content="調査の目的・組織・方法", questionnaire_disclosure=true で行う
    ならば 状態は "school_investigation.explained" である
    もし 2019年6月13日 9:00 に 対策委員会 が "start_investigation" を行う
    ならば 状態は "school_investigation.investigating" である

  @7-3
  シナリオ: 調査中は被害児童生徒・保護者へ経過報告を繰り返し行う
    前提 2019年6月3日 9:00 に 校長 が事案を criterion=serious_harm で開く
    かつ 次の操作を順に行う:
      | 日付             | 役割       | 操作                | データ                                                                        |
      | 2019-06-03 10:00 | 校長       | report_occurrence   |                                                                               |
      | 2019-06-03 15:00 | 教育委員会 | inform_mayor        |                                                                               |
      | 2019-06-04 10:00 | 教育委員会 | assign_school       |                                                                               |
      | 2019-06-10 10:00 | 校長       | form_organisation   | third_party_members=1                                                         |
      | 2019-06-12 16:00 | 校長       | explain_in_advance  | date="2019-06-12", place="校長室", content="調査の目的・組織・方法", questionnaire_disclosure=true |
      | 2019-06-13 09:00 | 対策委員会 | start_investigation |                                                                               |
    もし 2019年6月28日 17:00 に 校長 が "report_progress" を content="アンケートの集計状況" で行う
    かつ 2019年7月12日 17:00 に 対策委員会 が "report_progress" を content="聴き取りで明らかになった事実関係" で行う
    ならば 履歴に "report_progress" が 2 件ある
    かつ 状態は "school_investigation.investigating" である
    もし 2019年7月12日 17:30 に 校長 が "report_progress" を行う
    ならば "データ不備" として拒否される

  @7-3
  シナリオアウトライン: 調査結果の報告には、被害側の所見の文書を添えたか（希望しなかったか）を記録する
    前提 2019年6月3日 9:00 に 校長 が事案を criterion=serious_harm で開く
    かつ 次の操作を順に行う:
      | 日付             | 役割       | 操作                | データ                                                                        |
      | 2019-06-03 10:00 | 校長       | report_occurrence   |                                                                               |
      | 2019-06-03 15:00 | 教育委員会 | inform_mayor        |                                                                               |
      | 2019-06-04 10:00 | 教育委員会 | assign_school       |                                                                               |
      | 2019-06-10 10:00 | 校長       | form_organisation   | third_party_members=1                                                         |
      | 2019-06-12 16:00 | 校長       | explain_in_advance  | date="2019-06-12", place="校長室", content="調査の目的・組織・方法", questionnaire_disclosure=true |
      | 2019-06-13 09:00 | 対策委員会 | start_investigation |                                                                               |
    もし 2019年7月19日 10:00 に 校長 が "report_results" を行う
    ならば "データ不備" として拒否される
    かつ 拒否の理由に "victim_opinion" が含まれる
    もし 2019年7月19日 10:10 に 校長 が "report_results" を victim_opinion=<所見> で行う
    ならば 状態は "results_reported" である
    かつ 履歴の最後は "report_results" である
    かつ 記録は検証に合格する

    例:
      | 所見     |
      | attached |
      | declined |

  # ---------------------------------------------------------------- 7(3)② 教育委員会が調査主体となる場合

  @7-3
  シナリオ: 教育委員会が調査主体のときは、学校は資料の提出など調査に協力する（繰り返し可）
    前提 2019年6月3日 9:00 に 校長 が事案を criterion=absence_30_days で開く
    かつ 次の操作を順に行う:
      | 日付             | 役割       | 操作              | データ     |
      | 2019-06-03 09:10 | 校長       | 事実:absence      | 2019-05-31 |
      | 2019-06-03 10:00 | 校長       | report_occurrence |            |
      | 2019-06-03 15:00 | 教育委員会 | inform_mayor      |            |
    もし 2019年6月4日 10:00 に 教育委員会 が "assign_board" を行う
    かつ 2019年6月5日 10:00 に 校長 が "provide_materials" を行う
    かつ 2019年6月6日 10:00 に 教職員 が "provide_materials" を行う
    ならば 履歴に "provide_materials" が 2 件ある
    かつ 状態は "board_investigation" である
    もし 2019年6月7日 10:00 に 教育委員会 が "discard_records" を retention_rule="文書管理規則に定める保存期間の経過" で行う
    ならば "行えない操作" として拒否される
    もし 2019年7月1日 10:00 に 校長 が "report_results" を victim_opinion=declined で行う
    ならば "権限がない" として拒否される
    かつ 拒否の理由に "board" が含まれる
    もし 2019年7月1日 11:00 に 教育委員会 が "report_results" を victim_opinion=declined で行う
    ならば 状態は "results_reported" である
    かつ 記録は検証に合格する

  # ---------------------------------------------------------------- 再調査（法30条）と記録の保存

  @7-3
  シナリオ: 調査結果の報告後、地方公共団体の長は再調査を行うことができる（校長にはできない）
    前提 2019年6月3日 9:00 に 校長 が事案を criterion=serious_harm で開く
    かつ 次の操作を順に行う:
      | 日付             | 役割       | 操作                | データ                                                                        |
      | 2019-06-03 10:00 | 校長       | report_occurrence   |                                                                               |
      | 2019-06-03 15:00 | 教育委員会 | inform_mayor        |                                                                               |
      | 2019-06-04 10:00 | 教育委員会 | assign_school       |                                                                               |
      | 2019-06-10 10:00 | 校長       | form_organisation   | third_party_members=1                                                         |
      | 2019-06-12 16:00 | 校長       | explain_in_advance  | date="2019-06-12", place="校長室", content="調査の目的・組織・方法", questionnaire_disclosure=true |
      | 2019-06-13 09:00 | 対策委員会 | start_investigation |                                                                               |
    もし 2019年7月1日 10:00 に 地方公共団体の長 が "order_reinvestigation" を reason="調査が不十分" で行う
    ならば "行えない操作" として拒否される
    もし 次の操作を順に行う:
      | 日付             | 役割       | 操作                     | データ                                  |
      | 2019-07-19 10:00 | 校長       | report_results           | victim_opinion=attached                 |
      | 2019-07-19 15:00 | 教育委員会 | forward_results_to_mayor |                                         |
      | 2019-07-25 10:00 | 校長       | take_measures            | measures="見守り体制と加害生徒への継続指導" |
    かつ 2019年8月1日 10:00 に 校長 が "order_reinvestigation" を reason="調査が不十分" で行う
    ならば "権限がない" として拒否される
    かつ 拒否の理由に "mayor" が含まれる
    もし 2019年8月1日 11:00 に 地方公共団体の長 が "order_reinvestigation" を reason="被害側の所見と調査結果が食い違う" で行う
    ならば 状態は "reinvestigation" である
    もし 2019年8月20日 10:00 に 教育委員会 が "discard_records" を retention_rule="文書管理規則に定める保存期間の経過" で行う
    ならば "行えない操作" として拒否される
    もし 2019年10月1日 10:00 に 地方公共団体の長 が "report_reinvestigation" を行う
    ならば 状態は "results_reported" である
    もし 2019年10月7日 10:00 に 校長 が "take_measures" を measures="再調査の結果を踏まえた再発防止策" で行う
    ならば 状態は "measures_taken" である
    かつ 履歴に "take_measures" が 2 件ある
    かつ 記録は検証に合格する

  @7-3
  シナリオ: 調査中は記録を廃棄できず、調査を終え措置を講じた後に保存期間の経過によって廃棄できる
    前提 2019年6月3日 9:00 に 校長 が事案を criterion=serious_harm で開く
    かつ 次の操作を順に行う:
      | 日付             | 役割       | 操作                | データ                                                                        |
      | 2019-06-03 10:00 | 校長       | report_occurrence   |                                                                               |
      | 2019-06-03 15:00 | 教育委員会 | inform_mayor        |                                                                               |
      | 2019-06-04 10:00 | 教育委員会 | assign_school       |                                                                               |
      | 2019-06-10 10:00 | 校長       | form_organisation   | third_party_members=1                                                         |
      | 2019-06-12 16:00 | 校長       | explain_in_advance  | date="2019-06-12", place="校長室", content="調査の目的・組織・方法", questionnaire_disclosure=true |
      | 2019-06-13 09:00 | 対策委員会 | start_investigation |                                                                               |
      | 2019-06-17 10:00 | 対策委員会 | conduct_survey      | method="全校生徒へのアンケート"                                               |
    もし 2019年6月20日 10:00 に 教育委員会 が "discard_records" を retention_rule="文書管理規則に定める保存期間の経過" で行う
    ならば "行えない操作" として拒否される
    かつ 2019年6月20日 10:00 に 教育委員会 が行える操作に "discard_records" が含まれない
    もし 次の操作を順に行う:
      | 日付             | 役割 | 操作           | データ                                  |
      | 2019-07-19 10:00 | 校長 | report_results | victim_opinion=declined                 |
      | 2019-07-25 10:00 | 校長 | take_measures  | measures="見守り体制と加害生徒への継続指導" |
    かつ 2025年4月1日 10:00 に 教育委員会 が "discard_records" を行う
    ならば "データ不備" として拒否される
    もし 2025年4月1日 10:10 に 教育委員会 が "discard_records" を retention_rule="文書管理規則に定める保存期間の経過" で行う
    ならば 受け付けられる
    かつ 状態は "measures_taken" である
    かつ 記録は検証に合格する
