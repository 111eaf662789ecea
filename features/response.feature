# language: ja
@response
機能: いじめに対する措置（学校いじめ防止基本方針 4）
  学校いじめ防止基本方針の「4 いじめに対する措置」を、ワークフローが守っていることを確かめる。
  どの学校のワークフローでも、同じ契約上の状態・操作の名前を使っていれば、この機能ファイルで確かめられる:
    ijime-flow check --workflow その学校のワークフロー.yaml

  背景:
    前提 ワークフロー "../workflows/response.yaml" を読み込む
    かつ 2019年5月13日 12:40 に 教職員 が事案を開く

  # ---------------------------------------------------------------- 4(1), 4(2) 発見から報告まで

  @4-1 @4-2
  シナリオ: 発見した教職員はその場で行為を止め、即日管理職へ報告する
    もし 2019年5月13日 12:41 に 教職員 が "stop_act" を行う
    かつ 2019年5月13日 13:10 に 教職員 が "report_to_administrator" を行う
    ならば 状態は "reported_to_administrator" である
    かつ 2019年5月13日 23:00 時点で期限 "report_to_administrator_same_day" は 期限内に実施 である

  @4-1
  シナリオ: 翌日になってからの管理職への報告は期限後の実施として記録される
    前提 次の操作を順に行う:
      | 日付             | 役割   | 操作     |
      | 2019-05-13 12:41 | 教職員 | stop_act |
    もし 2019年5月14日 8:30 に 教職員 が "report_to_administrator" を行う
    ならば 受け付けられる
    かつ 2019年5月14日 9:00 時点で期限 "report_to_administrator_same_day" は 期限後に実施 である

  @4-1
  シナリオ: 管理職へ報告しないまま日をまたぐと期限超過になる
    もし 2019年5月13日 12:41 に 教職員 が "stop_act" を行う
    ならば 2019年5月13日 20:00 時点で期限 "report_to_administrator_same_day" は 期限前 である
    かつ 2019年5月14日 0:00 時点で期限 "report_to_administrator_same_day" は 期限超過 である

  @4-1
  シナリオ: 管理職は全教職員の共通理解を図ることができる
    もし 2019年5月13日 16:00 に 校長 が "share_with_all_staff" を行う
    ならば 受け付けられる
    かつ 状態は "discovered" である

  @4-2
  シナリオ: 相談を受けた教職員は真摯に傾聴し安全を確保する
    もし 2019年5月13日 12:50 に 教職員 が "secure_safety" を行う
    ならば 状態は "initial_response" である

  @4-2 @needs-report_to_administrator
  シナリオ: 管理職への報告を飛ばして委員会で情報共有することはできない
    前提 次の操作を順に行う:
      | 日付             | 役割   | 操作     |
      | 2019-05-13 12:41 | 教職員 | stop_act |
    もし 2019年5月13日 13:00 に 校長 が "share_with_committee" を行う
    ならば "行えない操作" として拒否される
    かつ 拒否の理由に "report_to_administrator" が含まれる
    かつ 状態は "initial_response" である

  @4-2 @6-1
  シナリオ: 管理職は報告を受けた日のうちに校内いじめ問題対策委員会で情報共有する
    前提 次の操作を順に行う:
      | 日付             | 役割   | 操作                    |
      | 2019-05-13 12:41 | 教職員 | stop_act                |
      | 2019-05-13 13:10 | 教職員 | report_to_administrator |
    もし 2019年5月13日 15:30 に 管理職 が "share_with_committee" を行う
    ならば 状態は "shared_with_committee" である
    かつ 2019年5月13日 23:00 時点で期限 "share_with_committee_same_day" は 期限内に実施 である

  @4-2
  シナリオ: 委員会は速やかに関係生徒から聴き取り、事実を確認する
    前提 次の操作を順に行う:
      | 日付             | 役割   | 操作                    |
      | 2019-05-13 12:41 | 教職員 | stop_act                |
      | 2019-05-13 13:10 | 教職員 | report_to_administrator |
      | 2019-05-13 15:30 | 校長   | share_with_committee    |
    もし 2019年5月13日 16:00 に 対策委員会 が "start_fact_finding" を行う
    かつ 2019年5月14日 17:00 に 対策委員会 が "confirm_facts" を bullying_recognised=true で行う
    ならば 状態は "facts_confirmed" である
    かつ 2019年5月14日 18:00 時点で期限 "fact_finding_promptly" は 期限内に実施 である

  @4-2
  シナリオ: 教職員は教育委員会へ報告できない（報告するのは校長）
    前提 次の操作を順に行う:
      | 日付             | 役割       | 操作                    | データ                   |
      | 2019-05-13 12:41 | 教職員     | stop_act                |                          |
      | 2019-05-13 13:10 | 教職員     | report_to_administrator |                          |
      | 2019-05-13 15:30 | 校長       | share_with_committee    |                          |
      | 2019-05-13 16:00 | 対策委員会 | start_fact_finding      |                          |
      | 2019-05-14 17:00 | 対策委員会 | confirm_facts           | bullying_recognised=true |
    もし 2019年5月14日 17:30 に 教職員 が "report_to_board" を行う
    ならば "権限がない" として拒否される
    かつ 拒否の理由に "principal" が含まれる
    かつ 状態は "facts_confirmed" である
    もし 2019年5月14日 17:40 に 校長 が "report_to_board" を行う
    ならば 状態は "board_reported" である

  @4-2
  シナリオ: いじめと認められなくても教育委員会へ報告し、理由を記録して終結する
    前提 次の操作を順に行う:
      | 日付             | 役割       | 操作                    | データ                    |
      | 2019-05-13 12:41 | 教職員     | stop_act                |                           |
      | 2019-05-13 13:10 | 教職員     | report_to_administrator |                           |
      | 2019-05-13 15:30 | 校長       | share_with_committee    |                           |
      | 2019-05-13 16:00 | 対策委員会 | start_fact_finding      |                           |
      | 2019-05-14 17:00 | 対策委員会 | confirm_facts           | bullying_recognised=false |
      | 2019-05-14 17:30 | 校長       | report_to_board         |                           |
    もし 2019年5月15日 9:00 に 対策委員会 が "begin_response" を行う
    ならば "条件を満たさない" として拒否される
    もし 2019年5月15日 9:30 に 校長 が "close" を行う
    ならば "データ不備" として拒否される
    もし 2019年5月15日 9:40 に 校長 が "close" を reason="ふざけ合いで双方の合意を確認" で行う
    ならば 状態は "closed" である
    かつ 記録は検証に合格する

  @4-2
  シナリオ: 重大な暴力行為や金品強要等のおそれがなければ警察への相談はできない
    もし 2019年5月13日 14:00 に 校長 が "consult_police" を行う
    ならば "条件を満たさない" として拒否される
    かつ 拒否の理由に "金品強要" が含まれる

  @4-2
  シナリオ: 重大な暴力行為や金品強要等のおそれがあるとき校長は警察署に相談する
    前提 2019年5月13日 13:00 に 教職員 が事実 "serious_violence_or_extortion" を true と記録する
    もし 2019年5月13日 14:00 に 教職員 が "consult_police" を行う
    ならば "権限がない" として拒否される
    もし 2019年5月13日 14:10 に 校長 が "consult_police" を行う
    ならば 受け付けられる
    かつ 状態は "discovered" である

  # ---------------------------------------------------------------- 4(3) いじめられた生徒・保護者への対応

  @4-3
  シナリオ: 被害生徒から聴き取り、守り抜くことを伝え、判明した情報を即日保護者に伝える
    前提 次の操作を順に行う:
      | 日付             | 役割       | 操作                    | データ                   |
      | 2019-05-13 12:41 | 教職員     | stop_act                |                          |
      | 2019-05-13 13:10 | 教職員     | report_to_administrator |                          |
      | 2019-05-13 15:30 | 校長       | share_with_committee    |                          |
      | 2019-05-13 16:00 | 対策委員会 | start_fact_finding      |                          |
      | 2019-05-14 17:00 | 対策委員会 | confirm_facts           | bullying_recognised=true |
      | 2019-05-14 17:30 | 校長       | report_to_board         |                          |
      | 2019-05-15 08:30 | 対策委員会 | begin_response          |                          |
    もし 2019年5月15日 10:00 に 教職員 が "interview_victim" を行う
    かつ 2019年5月15日 10:20 に 教職員 が "inform_victim_guardians" を行う
    ならば "行えない操作" として拒否される
    もし 2019年5月15日 10:30 に 教職員 が "assure_victim" を行う
    かつ 2019年5月15日 19:00 に 教職員 が "inform_victim_guardians" を行う
    ならば 状態は "responding.victim_support.guardians_informed" である
    かつ 2019年5月15日 23:00 時点で期限 "victim_guardians_same_day" は 期限内に実施 である

  @4-3
  シナリオ: 保護者への連絡が翌日になると即日対応の期限後として記録される
    前提 次の操作を順に行う:
      | 日付             | 役割       | 操作                    | データ                   |
      | 2019-05-13 12:41 | 教職員     | stop_act                |                          |
      | 2019-05-13 13:10 | 教職員     | report_to_administrator |                          |
      | 2019-05-13 15:30 | 校長       | share_with_committee    |                          |
      | 2019-05-13 16:00 | 対策委員会 | start_fact_finding      |                          |
      | 2019-05-14 17:00 | 対策委員会 | confirm_facts           | bullying_recognised=true |
      | 2019-05-14 17:30 | 校長       | report_to_board         |                          |
      | 2019-05-15 08:30 | 対策委員会 | begin_response          |                          |
      | 2019-05-15 10:00 | 教職員     | interview_victim        |                          |
      | 2019-05-15 10:30 | 教職員     | assure_victim           |                          |
    もし 2019年5月16日 9:00 に 教職員 が "inform_victim_guardians" を行う
    ならば 2019年5月16日 9:00 時点で期限 "victim_guardians_same_day" は 期限後に実施 である

  @4-3
  シナリオ: プライバシーへの配慮、信頼できる人との連携、別室学習、カウンセラーの協力を記録できる
    前提 次の操作を順に行う:
      | 日付             | 役割       | 操作                    | データ                   |
      | 2019-05-13 12:41 | 教職員     | stop_act                |                          |
      | 2019-05-13 13:10 | 教職員     | report_to_administrator |                          |
      | 2019-05-13 15:30 | 校長       | share_with_committee    |                          |
      | 2019-05-13 16:00 | 対策委員会 | start_fact_finding      |                          |
      | 2019-05-14 17:00 | 対策委員会 | confirm_facts           | bullying_recognised=true |
      | 2019-05-14 17:30 | 校長       | report_to_board         |                          |
      | 2019-05-15 08:30 | 対策委員会 | begin_response          |                          |
    もし 2019年5月15日 9:00 に 対策委員会 が "confirm_privacy_handling" を行う
    かつ 2019年5月15日 12:00 に 教職員 が "enlist_trusted_people" を行う
    かつ 2019年5月16日 9:00 に 対策委員会 が "arrange_separate_room" を行う
    かつ 2019年5月16日 10:00 に スクールカウンセラー が "involve_counselor" を行う
    ならば 受け付けられる
    かつ 状態は "responding.victim_support.interviewing" である
    かつ 履歴に "involve_counselor" が 1 件ある
    もし 2019年5月16日 11:00 に 教職員 が "arrange_separate_room" を行う
    ならば "権限がない" として拒否される

  @4-3 @4-4 @4-5
  シナリオ: 三つの対応がすべて終わって初めて継続的な見守りに入る
    前提 次の操作を順に行う:
      | 日付             | 役割       | 操作                    | データ                   |
      | 2019-05-13 12:41 | 教職員     | stop_act                |                          |
      | 2019-05-13 13:10 | 教職員     | report_to_administrator |                          |
      | 2019-05-13 15:30 | 校長       | share_with_committee    |                          |
      | 2019-05-13 16:00 | 対策委員会 | start_fact_finding      |                          |
      | 2019-05-14 17:00 | 対策委員会 | confirm_facts           | bullying_recognised=true |
      | 2019-05-14 17:30 | 校長       | report_to_board         |                          |
      | 2019-05-15 08:30 | 対策委員会 | begin_response          |                          |
      | 2019-05-15 09:00 | 教職員     | guide_bystanders        |                          |
      | 2019-05-15 09:30 | 教職員     | hold_class_discussion   |                          |
      | 2019-05-15 10:00 | 教職員     | interview_victim        |                          |
      | 2019-05-15 10:30 | 教職員     | assure_victim           |                          |
      | 2019-05-15 19:00 | 教職員     | inform_victim_guardians |                          |
    もし 2019年5月17日 16:00 に 対策委員会 が "complete_victim_support" を行う
    ならば 状態は "responding" である
    かつ 状態は "monitoring" ではない
    もし 2019年5月17日 16:10 に 教職員 が "interview_perpetrator" を行う
    かつ 2019年5月17日 16:20 に 対策委員会 が "guide_perpetrator" を apology_made=true で行う
    かつ 2019年5月17日 16:30 に 教職員 が "inform_perpetrator_guardians" を行う
    かつ 2019年5月17日 16:40 に 対策委員会 が "complete_perpetrator_guidance" を行う
    ならば 状態は "monitoring" である
    かつ 履歴の最後は "complete_response" である
    かつ 記録は検証に合格する

  @4-3
  シナリオ: 解決したと思われる場合でも継続して見守る
    前提 次の操作を順に行う:
      | 日付             | 役割       | 操作                          | データ                   |
      | 2019-05-13 12:41 | 教職員     | stop_act                      |                          |
      | 2019-05-13 13:10 | 教職員     | report_to_administrator       |                          |
      | 2019-05-13 15:30 | 校長       | share_with_committee          |                          |
      | 2019-05-13 16:00 | 対策委員会 | start_fact_finding            |                          |
      | 2019-05-14 17:00 | 対策委員会 | confirm_facts                 | bullying_recognised=true |
      | 2019-05-14 17:30 | 校長       | report_to_board               |                          |
      | 2019-05-15 08:30 | 対策委員会 | begin_response                |                          |
      | 2019-05-15 09:00 | 教職員     | guide_bystanders              |                          |
      | 2019-05-15 09:30 | 教職員     | hold_class_discussion         |                          |
      | 2019-05-15 10:00 | 教職員     | interview_victim              |                          |
      | 2019-05-15 10:30 | 教職員     | assure_victim                 |                          |
      | 2019-05-15 19:00 | 教職員     | inform_victim_guardians       |                          |
      | 2019-05-16 10:00 | 教職員     | interview_perpetrator         |                          |
      | 2019-05-16 11:00 | 対策委員会 | guide_perpetrator             | apology_made=true        |
      | 2019-05-16 18:00 | 教職員     | inform_perpetrator_guardians  |                          |
      | 2019-05-17 16:00 | 対策委員会 | complete_victim_support       |                          |
      | 2019-05-17 16:10 | 対策委員会 | complete_perpetrator_guidance |                          |
    もし 2019年6月3日 に 教職員 が "check_in_with_victim" を行う
    ならば 受け付けられる
    かつ 状態は "monitoring" である

  # ---------------------------------------------------------------- 4(4) いじめた生徒への指導

  @4-4
  シナリオ: 加害生徒から聴き取り、謝罪と約束を指導し、速やかに保護者へ連絡する
    前提 次の操作を順に行う:
      | 日付             | 役割       | 操作                    | データ                   |
      | 2019-05-13 12:41 | 教職員     | stop_act                |                          |
      | 2019-05-13 13:10 | 教職員     | report_to_administrator |                          |
      | 2019-05-13 15:30 | 校長       | share_with_committee    |                          |
      | 2019-05-13 16:00 | 対策委員会 | start_fact_finding      |                          |
      | 2019-05-14 17:00 | 対策委員会 | confirm_facts           | bullying_recognised=true |
      | 2019-05-14 17:30 | 校長       | report_to_board         |                          |
      | 2019-05-15 08:30 | 対策委員会 | begin_response          |                          |
    もし 2019年5月15日 11:00 に 教職員 が "interview_perpetrator" を行う
    かつ 2019年5月15日 13:00 に 対策委員会 が "guide_perpetrator" を行う
    ならば "データ不備" として拒否される
    もし 2019年5月15日 13:10 に 対策委員会 が "guide_perpetrator" を apology_made=true で行う
    かつ 2019年5月15日 14:00 に 教職員 が "teach_unacceptability" を行う
    かつ 2019年5月15日 18:00 に 教職員 が "inform_perpetrator_guardians" を行う
    かつ 2019年5月16日 9:00 に 教職員 が "advise_perpetrator_guardians" を行う
    かつ 2019年5月16日 10:00 に スクールカウンセラー が "continue_perpetrator_guidance" を行う
    ならば 状態は "responding.perpetrator_guidance.guardians_informed" である
    かつ 2019年5月16日 10:00 時点で期限 "perpetrator_guardians_promptly" は 期限内に実施 である

  # ---------------------------------------------------------------- 4(5) 集団への働きかけ

  @4-5
  シナリオ: 観衆・傍観者を指導し、知らせる勇気と加担の意味を伝え、学級で話し合う
    前提 次の操作を順に行う:
      | 日付             | 役割       | 操作                    | データ                   |
      | 2019-05-13 12:41 | 教職員     | stop_act                |                          |
      | 2019-05-13 13:10 | 教職員     | report_to_administrator |                          |
      | 2019-05-13 15:30 | 校長       | share_with_committee    |                          |
      | 2019-05-13 16:00 | 対策委員会 | start_fact_finding      |                          |
      | 2019-05-14 17:00 | 対策委員会 | confirm_facts           | bullying_recognised=true |
      | 2019-05-14 17:30 | 校長       | report_to_board         |                          |
      | 2019-05-15 08:30 | 対策委員会 | begin_response          |                          |
    もし 2019年5月15日 9:00 に 教職員 が "guide_bystanders" を行う
    かつ 2019年5月15日 9:10 に 教職員 が "encourage_telling" を行う
    かつ 2019年5月15日 9:20 に 教職員 が "address_followers" を行う
    かつ 2019年5月16日 9:00 に 教職員 が "hold_class_discussion" を行う
    ならば 状態は "responding.bystander_guidance.done" である

  # ---------------------------------------------------------------- 4(6) ネット上のいじめ

  @4-6
  シナリオアウトライン: ネット上のいじめへの対応はネット上のいじめの事案でのみ行える
    もし 2019年5月13日 13:00 に 教職員 が "<操作>" を行う
    ならば "条件を満たさない" として拒否される
    もし 2019年5月13日 13:05 に 教職員 が事実 "online" を true と記録する
    かつ 2019年5月13日 13:10 に 教職員 が "<操作>" を行う
    ならば 受け付けられる

    例:
      | 操作                       |
      | delete_posts               |
      | inform_support_services    |
      | promote_information_morals |

  @4-6
  シナリオ: 生命・身体・財産に重大な被害のおそれがあるときは直ちに警察へ通報する
    前提 2019年5月13日 13:00 に 教職員 が事実 "online" を true と記録する
    もし 2019年5月13日 13:05 に 校長 が "notify_police" を行う
    ならば "条件を満たさない" として拒否される
    かつ 拒否の理由に "重大な被害" が含まれる
    もし 2019年5月13日 13:10 に 教職員 が事実 "grave_harm_feared" を true と記録する
    かつ 2019年5月13日 13:15 に 校長 が "notify_police" を行う
    ならば 受け付けられる

  # ---------------------------------------------------------------- 解消（国の基本方針）と再発

  @national-policy
  シナリオ: 行為が止んでから3か月に満たない解消（2か月29日、前日）は認められず、満たせる最初の日が示される
    前提 次の操作を順に行う:
      | 日付             | 役割                 | 操作                          | データ                   |
      | 2019-05-13 12:41 | 教職員               | stop_act                      |                          |
      | 2019-05-13 13:10 | 教職員               | report_to_administrator       |                          |
      | 2019-05-13 15:30 | 校長                 | share_with_committee          |                          |
      | 2019-05-13 16:00 | 対策委員会           | start_fact_finding            |                          |
      | 2019-05-14 17:00 | 対策委員会           | confirm_facts                 | bullying_recognised=true |
      | 2019-05-14 17:30 | 校長                 | report_to_board               |                          |
      | 2019-05-15 08:30 | 対策委員会           | begin_response                |                          |
      | 2019-05-15 09:00 | 教職員               | guide_bystanders              |                          |
      | 2019-05-15 09:30 | 教職員               | hold_class_discussion         |                          |
      | 2019-05-15 10:00 | 教職員               | interview_victim              |                          |
      | 2019-05-15 10:30 | 教職員               | assure_victim                 |                          |
      | 2019-05-15 19:00 | 教職員               | inform_victim_guardians       |                          |
      | 2019-05-16 10:00 | 教職員               | interview_perpetrator         |                          |
      | 2019-05-16 11:00 | 対策委員会           | guide_perpetrator             | apology_made=true        |
      | 2019-05-16 18:00 | 教職員               | inform_perpetrator_guardians  |                          |
      | 2019-05-17 16:00 | 対策委員会           | complete_victim_support       |                          |
      | 2019-05-17 16:10 | 対策委員会           | complete_perpetrator_guidance |                          |
      | 2019-05-17 17:00 | 対策委員会           | 事実:act_stopped_on           | 2019-05-13               |
      | 2019-08-01 15:00 | スクールカウンセラー | 事実:victim_distress          | false                    |
    もし 2019年8月11日 16:00 に 対策委員会 が "resolve" を行う
    ならば "条件を満たさない" として拒否される
    かつ 拒否の理由に "2019-08-13" が含まれる
    もし 2019年8月12日 23:59 に 対策委員会 が "resolve" を行う
    ならば "条件を満たさない" として拒否される
    かつ 状態は "monitoring" である
    もし 2019年8月13日 9:00 に 対策委員会 が "resolve" を行う
    ならば 状態は "resolved" である

  @national-policy
  シナリオ: 被害生徒の心身の苦痛が続いている間は解消と判断できない
    前提 次の操作を順に行う:
      | 日付             | 役割                 | 操作                          | データ                   |
      | 2019-05-13 12:41 | 教職員               | stop_act                      |                          |
      | 2019-05-13 13:10 | 教職員               | report_to_administrator       |                          |
      | 2019-05-13 15:30 | 校長                 | share_with_committee          |                          |
      | 2019-05-13 16:00 | 対策委員会           | start_fact_finding            |                          |
      | 2019-05-14 17:00 | 対策委員会           | confirm_facts                 | bullying_recognised=true |
      | 2019-05-14 17:30 | 校長                 | report_to_board               |                          |
      | 2019-05-15 08:30 | 対策委員会           | begin_response                |                          |
      | 2019-05-15 09:00 | 教職員               | guide_bystanders              |                          |
      | 2019-05-15 09:30 | 教職員               | hold_class_discussion         |                          |
      | 2019-05-15 10:00 | 教職員               | interview_victim              |                          |
      | 2019-05-15 10:30 | 教職員               | assure_victim                 |                          |
      | 2019-05-15 19:00 | 教職員               | inform_victim_guardians       |                          |
      | 2019-05-16 10:00 | 教職員               | interview_perpetrator         |                          |
      | 2019-05-16 11:00 | 対策委員会           | guide_perpetrator             | apology_made=true        |
      | 2019-05-16 18:00 | 教職員               | inform_perpetrator_guardians  |                          |
      | 2019-05-17 16:00 | 対策委員会           | complete_victim_support       |                          |
      | 2019-05-17 16:10 | 対策委員会           | complete_perpetrator_guidance |                          |
      | 2019-05-17 17:00 | 対策委員会           | 事実:act_stopped_on           | 2019-05-13               |
      | 2019-09-02 15:00 | スクールカウンセラー | 事実:victim_distress          | true                     |
    もし 2019年9月2日 16:00 に 対策委員会 が "resolve" を行う
    ならば "条件を満たさない" として拒否される
    かつ 拒否の理由に "苦痛" が含まれる
    もし 2019年9月2日 16:10 に 教職員 が事実 "victim_distress" を false と記録する
    ならば "権限がない" として拒否される

  @national-policy @4-4
  シナリオ: 謝罪だけでは解消にならない
    前提 次の操作を順に行う:
      | 日付             | 役割       | 操作                          | データ                   |
      | 2019-05-13 12:41 | 教職員     | stop_act                      |                          |
      | 2019-05-13 13:10 | 教職員     | report_to_administrator       |                          |
      | 2019-05-13 15:30 | 校長       | share_with_committee          |                          |
      | 2019-05-13 16:00 | 対策委員会 | start_fact_finding            |                          |
      | 2019-05-14 17:00 | 対策委員会 | confirm_facts                 | bullying_recognised=true |
      | 2019-05-14 17:30 | 校長       | report_to_board               |                          |
      | 2019-05-15 08:30 | 対策委員会 | begin_response                |                          |
      | 2019-05-15 09:00 | 教職員     | guide_bystanders              |                          |
      | 2019-05-15 09:30 | 教職員     | hold_class_discussion         |                          |
      | 2019-05-15 10:00 | 教職員     | interview_victim              |                          |
      | 2019-05-15 10:30 | 教職員     | assure_victim                 |                          |
      | 2019-05-15 19:00 | 教職員     | inform_victim_guardians       |                          |
      | 2019-05-16 10:00 | 教職員     | interview_perpetrator         |                          |
      | 2019-05-16 11:00 | 対策委員会 | guide_perpetrator             | apology_made=true        |
      | 2019-05-16 18:00 | 教職員     | inform_perpetrator_guardians  |                          |
      | 2019-05-17 16:00 | 対策委員会 | complete_victim_support       |                          |
      | 2019-05-17 16:10 | 対策委員会 | complete_perpetrator_guidance |                          |
    もし 2019年9月2日 16:00 に 対策委員会 が "resolve" を行う
    ならば "条件を満たさない" として拒否される
    かつ 拒否の理由に "3か月" が含まれる
    かつ 拒否の理由に "面談" が含まれる

  @national-policy
  シナリオ: 解消後に再発したら同じ事案で事実確認に戻り、解消の要件は改めて満たす必要がある
    前提 次の操作を順に行う:
      | 日付             | 役割                 | 操作                          | データ                   |
      | 2019-05-13 12:41 | 教職員               | stop_act                      |                          |
      | 2019-05-13 13:10 | 教職員               | report_to_administrator       |                          |
      | 2019-05-13 15:30 | 校長                 | share_with_committee          |                          |
      | 2019-05-13 16:00 | 対策委員会           | start_fact_finding            |                          |
      | 2019-05-14 17:00 | 対策委員会           | confirm_facts                 | bullying_recognised=true |
      | 2019-05-14 17:30 | 校長                 | report_to_board               |                          |
      | 2019-05-15 08:30 | 対策委員会           | begin_response                |                          |
      | 2019-05-15 09:00 | 教職員               | guide_bystanders              |                          |
      | 2019-05-15 09:30 | 教職員               | hold_class_discussion         |                          |
      | 2019-05-15 10:00 | 教職員               | interview_victim              |                          |
      | 2019-05-15 10:30 | 教職員               | assure_victim                 |                          |
      | 2019-05-15 19:00 | 教職員               | inform_victim_guardians       |                          |
      | 2019-05-16 10:00 | 教職員               | interview_perpetrator         |                          |
      | 2019-05-16 11:00 | 対策委員会           | guide_perpetrator             | apology_made=true        |
      | 2019-05-16 18:00 | 教職員               | inform_perpetrator_guardians  |                          |
      | 2019-05-17 16:00 | 対策委員会           | complete_victim_support       |                          |
      | 2019-05-17 16:10 | 対策委員会           | complete_perpetrator_guidance |                          |
      | 2019-05-17 17:00 | 対策委員会           | 事実:act_stopped_on           | 2019-05-13               |
      | 2019-08-20 15:00 | スクールカウンセラー | 事実:victim_distress          | false                    |
      | 2019-08-20 16:00 | 対策委員会           | resolve                       |                          |
    もし 2019年10月1日 に 教職員 が "report_recurrence" を行う
    ならば 状態は "fact_finding" である
    かつ 履歴に "opened" が 1 件ある
    かつ 記録は検証に合格する
    もし 次の操作を順に行う:
      | 日付             | 役割       | 操作                          | データ                   |
      | 2019-10-02 17:00 | 対策委員会 | confirm_facts                 | bullying_recognised=true |
      | 2019-10-02 17:30 | 校長       | report_to_board               |                          |
      | 2019-10-03 08:30 | 対策委員会 | begin_response                |                          |
      | 2019-10-03 09:00 | 教職員     | guide_bystanders              |                          |
      | 2019-10-03 09:30 | 教職員     | hold_class_discussion         |                          |
      | 2019-10-03 10:00 | 教職員     | interview_victim              |                          |
      | 2019-10-03 10:30 | 教職員     | assure_victim                 |                          |
      | 2019-10-03 19:00 | 教職員     | inform_victim_guardians       |                          |
      | 2019-10-04 10:00 | 教職員     | interview_perpetrator         |                          |
      | 2019-10-04 11:00 | 対策委員会 | guide_perpetrator             | apology_made=true        |
      | 2019-10-04 18:00 | 教職員     | inform_perpetrator_guardians  |                          |
      | 2019-10-07 16:00 | 対策委員会 | complete_victim_support       |                          |
      | 2019-10-07 16:10 | 対策委員会 | complete_perpetrator_guidance |                          |
    かつ 2020年2月3日 に 対策委員会 が "resolve" を行う
    ならば "条件を満たさない" として拒否される
    かつ 拒否の理由に "未記録" が含まれる

  @national-policy
  シナリオ: 解消した事案は校長が終結する
    前提 次の操作を順に行う:
      | 日付             | 役割                 | 操作                          | データ                   |
      | 2019-05-13 12:41 | 教職員               | stop_act                      |                          |
      | 2019-05-13 13:10 | 教職員               | report_to_administrator       |                          |
      | 2019-05-13 15:30 | 校長                 | share_with_committee          |                          |
      | 2019-05-13 16:00 | 対策委員会           | start_fact_finding            |                          |
      | 2019-05-14 17:00 | 対策委員会           | confirm_facts                 | bullying_recognised=true |
      | 2019-05-14 17:30 | 校長                 | report_to_board               |                          |
      | 2019-05-15 08:30 | 対策委員会           | begin_response                |                          |
      | 2019-05-15 09:00 | 教職員               | guide_bystanders              |                          |
      | 2019-05-15 09:30 | 教職員               | hold_class_discussion         |                          |
      | 2019-05-15 10:00 | 教職員               | interview_victim              |                          |
      | 2019-05-15 10:30 | 教職員               | assure_victim                 |                          |
      | 2019-05-15 19:00 | 教職員               | inform_victim_guardians       |                          |
      | 2019-05-16 10:00 | 教職員               | interview_perpetrator         |                          |
      | 2019-05-16 11:00 | 対策委員会           | guide_perpetrator             | apology_made=true        |
      | 2019-05-16 18:00 | 教職員               | inform_perpetrator_guardians  |                          |
      | 2019-05-17 16:00 | 対策委員会           | complete_victim_support       |                          |
      | 2019-05-17 16:10 | 対策委員会           | complete_perpetrator_guidance |                          |
      | 2019-05-17 17:00 | 対策委員会           | 事実:act_stopped_on           | 2019-05-13               |
      | 2019-08-20 15:00 | スクールカウンセラー | 事実:victim_distress          | false                    |
      | 2019-08-20 16:00 | 対策委員会           | resolve                       |                          |
    もし 2019年9月2日 に 対策委員会 が "close" を行う
    ならば "権限がない" として拒否される
    もし 2019年9月2日 9:00 に 校長 が "close" を行う
    ならば 状態は "closed" である
    かつ 記録は検証に合格する

  # ---------------------------------------------------------------- 6(2) 関係機関との連携

  @6-2 @4-1
  シナリオ: 校長は関係機関との連携を、機関と理由を記録して行う
    もし 2019年5月14日 に 校長 が "outside_agency_liaison" を agency="児童相談所" で行う
    ならば "データ不備" として拒否される
    もし 2019年5月14日 10:00 に 校長 が "outside_agency_liaison" を agency="児童相談所", reason="心理的なケアが必要" で行う
    ならば 受け付けられる
    かつ 2019年5月14日 10:00 に 教職員 が行える操作に "outside_agency_liaison" が含まれない

  # ---------------------------------------------------------------- 国の調査（問題行動・不登校等調査）の事実

  @national-survey
  シナリオ: いじめの態様は委員会が記録し、発見のきっかけは発見した教職員が記録できる
    もし 2019年5月13日 12:50 に 教職員 が事実 "discovered_through" を homeroom_teacher と記録する
    ならば 受け付けられる
    もし 2019年5月13日 12:55 に 教職員 が事実 "forms" を violence と記録する
    ならば "権限がない" として拒否される
    もし 2019年5月13日 13:00 に 対策委員会 が事実 "forms" を violence と記録する
    ならば 受け付けられる
    かつ 記録は検証に合格する
