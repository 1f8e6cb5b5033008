"""User-interface text (zh-CN), in one place."""

from __future__ import annotations

from geo.vocab import COMPLETENESS

APP_TITLE = "守护 · 儿童防溺水与汛期隐患地图"
DEMO_BANNER = "当前为示范数据：地名、人员、编码均为虚构。"

PAGE_HOME = "概览"
PAGE_MAP = "风险地图"
PAGE_LAYERS = "数据图层"
PAGE_RISK = "风险分级"

STORE_PROBLEM = "数据库无法使用"
STORE_HOWTO = "修正后刷新本页面即可。"

MAP_LAYER_VILLAGES = "村（社区）边界"
MAP_LAYER_WATER = "水域（按四个一状态）"
MAP_LAYER_SLOPES = "易涝易滑坡体"
MAP_LAYER_FACILITIES = "儿童场所"
MAP_LAYER_HOUSEHOLDS = "儿童家庭（聚合）"
MAP_LAYER_VILLAGE_COUNTS = "各村儿童家庭数（汇总）"
MAP_VILLAGE_COUNT = "{name}：儿童家庭 {households} 户，儿童 {children} 人"
MAP_COUNTS_ONLY = "当前账号只能查看各村汇总数，地图上不显示家庭点位。"
MAP_BASE_NONE = "无底图（离线）"
MAP_BASE_TIANDITU = "天地图矢量"
MAP_ZOOM_IN = "放大"
MAP_ZOOM_OUT = "缩小"
MAP_LEGEND_TITLE = "图例"
MAP_NO_NAMES = "地图上不显示儿童姓名；家庭点位按数量聚合显示。"
MAP_FILTER_VILLAGE = "村（社区）"
MAP_ALL_VILLAGES = "全部"
PLACE_ALL_TOWNSHIPS = "全部乡镇（{n} 个）"
RISK_NO_MAP_FOR_ALL = "选择“全部乡镇”时不逐户画图（户数太多）；请在上方选择一个乡镇查看地图。"
RISK_LIST_CUT = "下表只列分数最高的 {shown} 户（共 {total} 户）；完整清单请下载。"

LEGEND_WATER = {code: label for code, label in COMPLETENESS.items()}
LEGEND_SLOPE = "易涝易滑坡体"
LEGEND_FACILITY = "儿童场所"
LEGEND_HOUSEHOLD = "儿童家庭（数字为户数）"
LEGEND_VILLAGE = "村（社区）边界"

POPUP_CHILDREN = "儿童 {n} 名"

PAGE_LOGIN = "登录"
PAGE_AUDIT = "审计日志"
LOGIN_TITLE = "守护 · 登录"
LOGIN_USER = "登录名"
LOGIN_PASSWORD = "口令"
LOGIN_BUTTON = "登录"
LOGIN_REQUIRED = "请先登录。"
LOGIN_IDLE = "超过 {minutes} 分钟未操作，已自动退出，请重新登录。"
LOGIN_NO_ACCOUNTS = (
    "还没有任何账号。请县级管理员在服务器上运行：\n\n"
    "`shouhu user add 登录名 --role county_admin --scope 县级区划代码`\n\n"
    "（口令在命令行提示时输入，系统不设默认口令。）"
)
LOGOUT_BUTTON = "退出登录"
INTERNAL = "内部资料 · 注意保密"
RISK_COMPUTED_AT = "结果计算于 {time}；数据有改动时会自动重新计算。"
RISK_RECOMPUTE = "重新计算"
RISK_COUNTS_ONLY = "当前账号只能查看各村风险户数汇总，不显示家庭清单和点位。"
PAGE_CHILDREN = "儿童名册"
CHILDREN_NOT_ALLOWED = "当前账号不能查看儿童名册（只能查看汇总数据）。"
CHILDREN_REVEAL = "显示完整信息（将记入审计日志）"
CHILDREN_HIDE = "恢复隐藏"
CHILDREN_MASKED = "姓名、身份证号、电话和住址已按规定隐藏。查看和下载均记入审计日志。"
CHILDREN_REVEALED = "正在显示完整个人信息，本次查看已记入审计日志。请勿截图外传。"
CHILDREN_EXPORT_MASKED = "当前账号没有导出个人信息的权限：下载的名册仍为隐藏后的信息。"
PAGE_TRANSFER = "导入导出"
TRANSFER_NOT_ALLOWED = "当前账号不能导入数据。"
TRANSFER_CHECK_OK = "检查通过：可以导入。导入时全部成功才写入。"
TRANSFER_CHECK_FAILED = "有 {n} 个错误，不能导入：请按问题清单修改文件后重新检查。什么也没有写入。"
TRANSFER_DONE = "已导入：新增 {新增}，更新 {更新}，不变 {不变}。"
PAGE_EDUCATION = "安全教育"
EDU_STAFFING = "有 {n} 个村留守及困境儿童超过 30 人、儿童主任少于 2 人，应增配儿童主任。"
EDU_SAVED = "已保存{village}的宣讲记录。"
# A year with no campaign registered is counted by the seed's dates; say so (page, CLI).
CAMPAIGN_DEFAULT = (
    "{c.year} 年没有登记专项行动，按默认日期统计：{c.deadline:%m月%d日}前宣讲、"
    "{c.report_due:%m月%d日}前报送；本地日期不同的，县级管理员可用 shouhu campaign add 登记。"
)
PAGE_PATROL = "巡查"
PATROL_SETTINGS_PROBLEM = "无法计算巡查优先级：本地设置文件有误，请管理员改正后刷新本页"
PAGE_SWEEP = "隐患排查"
SWEEP_NONE = "还没有汛期排查。请用 “shouhu sweep-campaign add” 新建（名称、起止日期、乡镇、半径）。"
