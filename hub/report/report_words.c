/* report_words.c — the annual report's words per language (report_words.h):
 * one table per language other than English, keyed by the English text.
 *
 * Callers: the HTML and CSV renderers. Threads: any. Owns nothing.
 *
 * Invariants:
 *  1. Every entry keeps the printf conversions of its key, in order (the
 *     renderers pass the same arguments to either; a reason's parts fill
 *     the "%s" in the order of the English); test_hub_report_words checks
 *     the renderers' formats and the patterns.
 *  2. Notes that carry HTML (entities, <b>) are keyed and translated as
 *     HTML; everything else is plain text the renderer escapes.
 *  3. Chinese terms follow GB 31574-2015 and HJ 75-2017 (有效小时均值,
 *     达标率, 基准排气量折算, 毒性当量 TEQ) and the ecology bureaus'
 *     annual-report wording.
 */
#include "report_words.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct word {
  const char *en, *zh;
};

static const struct word zh_cn[] = {
    /* ---- page, title block, scopes ---- */
    {"Annual environmental report %d", "%d 年度环境报告"},
    {"park", "园区"},
    {"standard", "执行标准"},
    {"none", "无"},
    {"Reporting period", "报告期"},
    {"to", "至"},
    {"local time", "当地时间"},
    {"Generated", "生成时间"},
    {"local", "当地时间"},
    {"by hub", "生成于 hub"},
    {"CEMS data processed up to", "CEMS 数据已处理至"},
    {"emissions and compliance cover the hours before", "排放量与达标情况统计至此时刻之前的小时"},
    {"(year not complete)", "（年度未完整）"},
    {"Emission factors", "排放因子"},
    {"Enterprises", "企业"},
    {"Park summary: ", "园区汇总："},
    {"annual report %d", "%d 年度报告"},
    {"Methods", "方法说明"},
    {"n/a", "不可用"},
    {"yes", "是"},
    {"no", "否"},
    {"no data", "无数据"},
    /* ---- headings ---- */
    {"Emissions", "污染物排放量"},
    {"Compliance", "达标情况"},
    {"Hourly means", "小时均值"},
    {"Daily means", "日均值"},
    {"Water outlets", "废水排放口"},
    {"PCDD/F (dioxin) inventory", "二噁英（PCDD/F）排放清单"},
    {"Stacks", "排气筒"},
    {"Stack tests", "监督性监测（手工采样）"},
    {"Emission factors used", "所用排放因子"},
    {"Monitoring period and operating states", "监测期与运行状态"},
    {"Monitoring plan: PCDD/F stack tests", "监测计划：二噁英手工监测"},
    {"Material balance and indicators", "物料平衡与指标"},
    {"Material ledger", "物料台账"},
    /* ---- column and row labels ---- */
    {"Enterprise id", "企业编号"},
    {"Sector (GB 31574-2015)", "行业（GB 31574-2015）"},
    {"Plant class", "企业类别"},
    {"Class since", "类别起始"},
    {"Special limits (Table 4)", "特别排放限值（表 4）"},
    {"Standard", "执行标准"},
    {"Standard loaded", "标准已加载"},
    {"UNEP Toolkit class", "UNEP 工具包类别"},
    {"Baseline year", "基准年"},
    {"Pollutant", "污染物"},
    {"Points", "监测点"},
    {"Mass emitted", "排放量"},
    {"Point-hours expected", "应有点位小时数"},
    {"Point-hours used", "计算所用点位小时数"},
    {"Stopped point-hours", "停运点位小时数"},
    {"Gap share", "缺失比例"},
    {"Outlet", "排放口"},
    {"Outlets", "排放口数"},
    {"Volume discharged", "排水量"},
    {"Valid flow hours", "有效流量小时数"},
    {"Days with flow", "有流量天数"},
    {"Limit", "限值"},
    {"Valid days", "有效天数"},
    {"Mean of daily means", "日均值的平均"},
    {"Day compliance", "日达标率"},
    {"Days over", "超标天数"},
    {"Hours out of range", "超出范围小时数"},
    {"Worst daily mean", "最大日均值"},
    {"Load", "污染物负荷"},
    {"Valid hours", "有效小时数"},
    {"Exceedance hours", "超标小时数"},
    {"Worst hourly mean", "最大小时均值"},
    {"at", "位置"},
    {"Data availability", "数据有效率"},
    {"Exceedance days", "超标天数"},
    {"Worst daily mean (converted)", "最大日均值（折算）"},
    {"Stack", "排气筒"},
    {"Release", "排放量"},
    {"Tests", "监测次数"},
    {"Mean test", "监测均值"},
    {"Gas volume", "烟气量"},
    {"Monitored hours", "监测小时数"},
    {"Stopped hours", "停运小时数"},
    {"Hours filled", "补足小时数"},
    {"Filled share", "补足比例"},
    {"Hours before first test", "首次监测前小时数"},
    {"Test time", "监测时间"},
    {"Result", "结果"},
    {"Above limit", "超过限值"},
    {"Period", "时段"},
    {"Toolkit class", "工具包类别"},
    {"Activity", "活动水平"},
    {"Air factor", "大气排放因子"},
    {"Residue factor", "残渣排放因子"},
    {"Air", "大气"},
    {"Residue", "残渣"},
    {"Factor status", "因子状态"},
    {"Monitored since", "监测起始"},
    {"Monitored until", "监测截止"},
    {"Start of monitoring from", "监测起始依据"},
    {"Monitored hours of the year", "年内监测小时数"},
    {"Monitored share of the year", "年内监测比例"},
    {"Status", "状态"},
    {"Point", "监测点"},
    {"Since", "起始"},
    {"Startup/shutdown hours", "启停小时数"},
    {"Stopped days", "停运天数"},
    {"Measured, monitored period", "实测（监测期内）"},
    {"Measured, annual", "实测（全年）"},
    {"Estimated, air", "估算（大气）"},
    {"Estimated, residue", "估算（残渣）"},
    {"Current (air)", "本年（大气）"},
    {"Baseline release", "基准年排放量"},
    {"Reduction (baseline − current)", "削减量（基准年 − 本年）"},
    {"Reduction, measured vs measured", "削减量（实测对实测）"},
    {"Reduction, estimated vs estimated", "削减量（估算对估算）"},
    {"Enterprise", "企业"},
    {"Measured", "实测"},
    {"Estimated air", "估算（大气）"},
    {"Estimated residue", "估算（残渣）"},
    {"Current", "本年"},
    {"Baseline", "基准年"},
    {"Reduction", "削减量"},
    {"As of", "截至"},
    {"Test interval", "监测周期"},
    {"Next stack test due", "下次手工监测应于"},
    {"Last test", "上次监测"},
    {"Next due", "下次应于"},
    {"Days left", "剩余天数"},
    {"Overdue", "已逾期"},
    {"Stacks tested", "已监测排气筒"},
    {"Feed (scrap) in", "原料（废杂铜）投入"},
    {"Product out", "产品产出"},
    {"Residues out", "残渣产出"},
    {"Consumables in", "辅料投入"},
    {"Fuels weighed in", "燃料投入（过磅）"},
    {"Water weighed in", "用水（过磅）"},
    {"Unclassified materials in", "未分类物料投入"},
    {"Unclassified materials out", "未分类物料产出"},
    {"Lots of unclassified materials", "未分类物料批次"},
    {"Copper in feed", "原料含铜"},
    {"Copper in product", "产品含铜"},
    {"Copper in residues", "残渣含铜"},
    {"Copper yield", "铜回收率"},
    {"Lots with a copper assay", "有铜化验的批次"},
    {"Lots whose assay was ignored (not 0..100 %)", "化验值被忽略的批次（不在 0..100 % 内）"},
    {"Enterprises without a baseline year", "无基准年的企业"},
    {"Indicator", "指标"},
    {"Year total", "全年合计"},
    {"Value", "数值"},
    {"Change", "变化"},
    {"Change, %", "变化（%）"},
    {"Material", "物料"},
    {"Chinese name", "中文名称"},
    {"Role", "类别"},
    {"Cu fraction (default)", "含铜率（默认）"},
    {"In", "投入"},
    {"Out", "产出"},
    {"Cu in", "铜投入"},
    {"Cu out", "铜产出"},
    {"Lots", "批次"},
    {"Assayed", "已化验"},
    {"Assay ignored", "化验值被忽略"},
    {"days", "天"},
    {"method: ", "方法："},
    {"Sources: ", "来源："},
    {"class ", "类别 "},
    {"As of ", "截至 "},
    {"; enterprises overdue: ", "；逾期企业数："},
    {"sum over %.0f enterprise%s", "%.0f 家企业合计%s"},
    {"%.0f without the figure", "%.0f 家无此数据"},
    {"Change against the baseline: ", "与基准年相比的变化："},
    {"Factor table: ", "因子表："},
    /* ---- values the tree writes as words ---- */
    {"ok", "正常"},
    {"due", "到期"},
    {"overdue", "已逾期"},
    {"never tested", "从未监测"},
    {"verified", "已核实"},
    {"not verified", "未核实"},
    {"unclassified", "未分类"},
    {"feed", "原料"},
    {"product", "产品"},
    {"residue", "残渣"},
    {"consumable", "辅料"},
    {"energy", "能源"},
    {"water", "水"},
    {"measured", "实测"},
    {"estimated", "估算"},
    {"mean", "均值"},
    {"latest", "最近一次"},
    {"configured", "配置值"},
    {"first data", "首条数据"},
    {"filled", "补足"},
    {"existing", "现有企业"},
    {"new", "新建企业"},
    {"t of product", "t 产品"},
    {"still monitored", "仍在监测"},
    {"monitored", "监测中"},
    {"not monitored", "未监测"},
    {"direct", "直接排放"},
    {"indirect", "间接排放"},
    {"hourly means (range)", "小时均值（范围）"},
    {"daily means", "日均值"},
    /* ---- "not available" reasons (report_*.c, domain/) ---- */
    {"not available", "不可用"},
    {"no limit", "无限值"},
    {"no factor", "无因子"},
    {"no class", "无类别"},
    {"no data in the year", "年内无数据"},
    {"no data in the baseline year", "基准年无数据"},
    {"no stack test on record", "无手工监测记录"},
    {"no baseline configured", "未配置基准年"},
    {"no baseline year configured", "未配置基准年"},
    {"no UNEP Toolkit class configured", "未配置 UNEP 工具包类别"},
    {"class not in the factor table", "因子表中无此类别"},
    {"no PCDD/F limit in force on that date", "该日无有效的二噁英限值"},
    {"standard %s is not loaded", "标准 %s 未加载"},
    {"standard %s is not loaded (hub config: limit_files)", "标准 %s 未加载（hub 配置：limit_files）"},
    {"not monitored: no data and no configured monitoring_since", "未监测：无数据，且未配置 monitoring_since"},
    {"not monitored in the period (no data and no configured monitoring_since)",
     "报告期内未监测（无数据，且未配置 monitoring_since）"},
    {"the plant was stopped in every monitored hour", "所有监测小时内企业均停运"},
    {"no closed hour in the monitoring period yet", "监测期内尚无已结算的小时"},
    {"no valid hourly mean yet", "尚无有效小时均值"},
    {"no valid daily mean yet", "尚无有效日均值"},
    {"no limit in force for the valid hourly means", "有效小时均值期间无有效限值"},
    {"no limit in force for the valid daily means", "有效日均值期间无有效限值"},
    {"no valid mean with a limit", "无有限值的有效均值"},
    {"no enterprise's standard sets a limit for it in the year", "年内各企业的执行标准均未规定其限值"},
    {"the enterprise's standard sets no limit for it in the year", "年内企业执行标准未规定其限值"},
    {"differs between enterprises: %s", "各企业不同：%s"},
    {"changed during the year: %s", "年内有变化：%s"},
    {"no pollutant with a limit in %s is measured continuously", "%s 中有限值的污染物均未连续监测"},
    {"no pollutant with a limit is measured continuously in the park", "园区内有限值的污染物均未连续监测"},
    {"no continuously measured pollutant concentration on record", "无连续监测的污染物浓度记录"},
    {"no hour with both a valid concentration and a valid flow", "无浓度与流量同时有效的小时"},
    {"no stack test and no flow on a PCDD/F stack in the year", "年内二噁英排气筒既无手工监测也无流量"},
    {"incomplete: %s", "不完整：%s"},
    {"the CEMS tables are not processed past the start of the year", "CEMS 数据尚未处理到本年"},
    {"the hub has not processed any CEMS hour yet", "hub 尚未处理任何 CEMS 小时数据"},
    {"no water outlet configured (point_media with medium water)",
     "未配置废水排放口（point_media 中 medium 为 water）"},
    {"no water outlet configured in the park", "园区未配置废水排放口"},
    {"no water outlet", "无废水排放口"},
    {"no water pollutant on record", "无废水污染物记录"},
    {"no valid day (20 valid hours)", "无有效日（20 个有效小时）"},
    {"no point on record", "无监测点记录"},
    {"no PCDD/F stack on record in the year", "年内无二噁英排气筒记录"},
    {"no stack test in the year", "年内无手工监测"},
    {"no part of the year", "不涉及本年任何时段"},
    {"no enterprise", "无企业"},
    {"no indicator", "无指标"},
    {"no material record in the year", "年内无物料记录"},
    {"needs both figures", "需要两个数据"},
    {"the baseline figure is 0", "基准年数据为 0"},
    {"needs both the baseline and the current figure", "需要基准年和本年两个数据"},
    {"no material (weighbridge) record in the year", "年内无物料（地磅）记录"},
    {"no material record in the baseline year", "基准年无物料记录"},
    {"no material record in the baseline years", "基准年无物料记录"},
    {"no product in the baseline year", "基准年无产品"},
    {"no product in the baseline years", "基准年无产品"},
    {"%s enterprise has no baseline year", "%s 家企业无基准年"},
    {"%s enterprises have no baseline year", "%s 家企业无基准年"},
    {"the baseline is a configured figure", "基准年数据为配置值"},
    {"no figure for the baseline year", "基准年无数据"},
    {"no factor for part of the year", "年内部分时段无因子"},
    {"needs estimated air releases in both years", "需要两年的大气排放估算值"},
    {"needs complete measured figures in both years", "需要两年完整的实测值"},
    {"baseline year %s has neither a complete measured figure nor an estimated one",
     "基准年 %s 既无完整实测值也无估算值"},
    {"ND (no factor)", "ND（无因子）"},
    {"class %s has no air factor (ND) for %s to %s", "类别 %s 在 %s 至 %s 无大气排放因子（ND）"},
    {"class %s has no residue factor (ND) for %s to %s", "类别 %s 在 %s 至 %s 无残渣排放因子（ND）"},
    {"monitored %s of %s days (share %s < %s)", "年内监测 %s / %s 天（比例 %s < %s）"},
    {"measured: %s; estimated: %s", "实测：%s；估算：%s"},
    {"monitored part of the year", "年内部分时段监测"},
    {"%s of %s enterprises have no such figure (see their rows)", "%s / %s 家企业无此数据（见各企业）"},
    {"Feed per t of product", "每吨产品原料"},
    {"Residues per t of product", "每吨产品残渣"},
    {"Consumables per t of product", "每吨产品辅料"},
    /* the rest of parkhub/na_reasons.h (test_hub_report_words: every reason has its entry) */
    {"standard not loaded", "标准未加载"},
    {"no verified limit", "无已核实的限值"},
    {"not in force", "限值尚未生效"},
    {"a range: %s to %s", "范围：%s 至 %s"},
    {"not measured", "未测量"},
    {"no UNEP Toolkit class configured for %s to %s", "%s 至 %s 未配置 UNEP 工具包类别"},
    {"class %s is not in the factor table %s", "类别 %s 不在因子表 %s 中"},
    {"no material (weighbridge) record of the factor's basis in the year", "年内无排放因子计算基准的物料（地磅）记录"},
    {"no hour of the monitoring period has closed yet", "监测期内尚无已结算的小时"},
    {"no valid flow hour in the monitored period", "监测期内无有效流量小时"},
    {"a PCDD/F stack has no figure (see its row)", "有二噁英排气筒无数据（见其所在行）"},
    {"no measured figure", "无实测值"},
    {"no product weighed in the period", "期内无产品过磅记录"},
    {"no copper in feed", "原料无含铜量"},
    {"no valid hour", "无有效小时"},
    {"no valid day", "无有效日"},
    {"not a concentration in mg/L", "不是以 mg/L 计的浓度"},
    {"no flow (w_flow) at the outlet", "排放口无流量（w_flow）"},
    {"no flow (w_flow) series at the outlet", "排放口无流量（w_flow）数据序列"},
    {"not monitored (no data and no configured monitoring_since)", "未监测（无数据，且未配置 monitoring_since）"},
    {"nothing expected in the period", "本期无应监测时段"},
    {"not available for %s of %s enterprises (see each one's value_na)", "%s 家企业无此数据（共 %s 家；见各企业的 value_na）"},
    {"%s of %s outlets have no flow series", "%s / %s 个排放口无流量数据序列"},
    {"no verified limit applied at any outlet", "各排放口均未采用已核实的限值"},
    {"%s of %s outlets have no load figure", "%s / %s 个排放口无负荷数据"},
    {"no load figure (no flow, or not a concentration in mg/L)", "无负荷数据（无流量，或不是以 mg/L 计的浓度）"},
    {"%s: the first %s of %s tests are listed (all are used)", "%s：列出前 %s 次监测（共 %s 次，全部参与计算）"},
    {"baseline year %s has no material (weighbridge) record: its estimate is 0 from 0 t",
     "基准年 %s 无物料（地磅）记录：其估算值为 0（活动水平 0 t）"},
    {"Copper yield (Cu out in product / Cu in feed)", "铜回收率（产品含铜 / 原料含铜）"},
    {"Compliance rate", "达标率"},
    {"never tested: overdue", "从未监测：已逾期"},
    {"overdue by %s days", "已逾期 %s 天"},
    {"due in %s days", "%s 天后到期"},
    {"not monitored in the year", "年内未监测"},
    {"monitored from the date above; no hour of it has closed yet", "自上述日期起监测；尚无已结算的小时"},
    {"monitored the whole year", "全年监测"},
    /* ---- notes (HTML, inv. 2) ---- */
    {"Mass over the point-hours with both a valid hourly concentration and a valid hourly flow; expected point-hours "
     "are those of each point's monitoring period, less the hours the plant was stopped (they released nothing); the "
     "gap share is the share of expected point-hours without them (not filled).",
     "排放量按小时浓度与小时流量均有效的点位小时计算；应有点位小时为各监测点监测期内的小时，扣除企业停运小时（停运不排放）；"
     "缺失比例为应有点位小时中缺少有效数据的比例（不补值）。"},
    {"Daily means of valid days (20 valid hours) against the standard's water limit for the outlet's discharge type; "
     "pH is judged on each valid hourly mean. Only limit values verified from the standard's text are used. Load = "
     "&#931; hourly concentration &#215; hourly flow over the hours with both valid (kg; per day: over the days with a "
     "load).",
     "有效日（20 个有效小时）的日均值与该排放口排放方式对应的标准水污染物限值比较；pH 按每个有效小时均值判定。"
     "仅使用已按标准原文核实的限值。负荷 = &#931; 小时浓度 &#215; 小时流量（两者均有效的小时；kg；日负荷按有负荷的天数）。"},
    {"Compliance = valid means within the limit / valid means with a limit in force. Daily means are judged after the "
     "benchmark exhaust-volume conversion (GB 31574-2015 &#167;4.2.7). The worst mean is the one with the highest ratio "
     "to its limit. Data availability = valid means / (closed periods &#215; points).",
     "达标率 = 未超限值的有效均值数 / 有有效限值的有效均值数。日均值按基准排气量折算后判定（GB 31574-2015 &#167;4.2.7）。"
     "最大均值为与限值之比最高者。数据有效率 = 有效均值数 / （已结算时段数 &#215; 监测点数）。"},
    {". A factor marked &#8220;not verified&#8221; has not been checked against its source.",
     "。标为&#8220;未核实&#8221;的因子尚未与其来源核对。"},
    {"method: %s; stack tests &#215; flue-gas volume of the monitored operating hours%s%s%s; concentration applied: "
     "%s test",
     "方法：%s；手工监测浓度 &#215; 监测期运行小时的烟气量%s%s%s；所用浓度：%s"},
    {", of which filled with the mean flow ", "，其中以平均流量补足 "},
    {"mean of the year's", "全年监测均值"},
    {"<b>annualised</b> from part of the year", "由部分年度<b>折算为全年</b>"},
    {"the year's figure", "全年数值"},
    {"%s; the monitoring covers %s of the year", "%s；监测覆盖全年的 %s"},
    {"UNEP Toolkit factor &#215; %s&#160;t activity (factors below)%s", "UNEP 工具包因子 &#215; %s&#160;t 活动水平（因子见下）%s"},
    {"; <b class=\"bad\">no material record in the year</b>", "；<b class=\"bad\">年内无物料记录</b>"},
    {"the annual measured figure when available, else the estimate when the year is monitored enough",
     "有全年实测值时取实测值，否则在年内监测充分时取估算值"},
    {"g TEQ/a, air", "g TEQ/a，大气"},
    /* ---- the tree's methods notes (report_json.c) ---- */
    {"Times are the park's local time; the year is the park's local calendar year.",
     "时间均为园区当地时间；年度为园区当地的自然年。"},
    {"CEMS figures (emissions, compliance) cover the hours and days the hub had closed and processed by "
     "cems_closed_until; later hours are neither valid nor missing.",
     "CEMS 数据（排放量、达标情况）涵盖 hub 在 cems_closed_until 之前已结算并处理的小时和日；之后的小时既不计为有效也不计为缺失。"},
    {"Emission mass = valid hourly mean concentration x valid hourly mean dry flow x 1 h, summed over the point-hours "
     "with both; other expected point-hours are gaps, counted in gap_share and never filled.",
     "排放量 = 有效小时均值浓度 × 有效小时均值干烟气流量 × 1 h，对两者均有效的点位小时求和；其余应有点位小时为缺失，"
     "计入 gap_share，不补值。"},
    {"Compliance: valid hourly means (HJ 75: 45 valid minutes, flag N only) against the stack limit in force that "
     "day; valid daily means (20 valid hours) after the GB 31574-2015 4.2.7 benchmark exhaust-volume conversion.",
     "达标判定：有效小时均值（HJ 75：45 个有效分钟，仅 N 标记）与当日有效的排气筒限值比较；有效日均值（20 个有效小时）"
     "按 GB 31574-2015 4.2.7 基准排气量折算后比较。"},
    {"PCDD/F measured = stack-test concentration x flue-gas volume of the whole year (hours without valid flow "
     "filled with the mean of the valid hours; measured_share says how much was measured). Estimated = UNEP Toolkit "
     "factor x activity. Current = measured when complete, else estimated (air).",
     "二噁英实测量 = 手工监测浓度 × 全年烟气量（无有效流量的小时以有效小时均值补足；measured_share 为实测比例）。"
     "估算量 = UNEP 工具包因子 × 活动水平。本年值 = 实测完整时取实测，否则取估算（大气）。"},
    {"Stack-test plan and its status are as of the generation date.", "手工监测计划及其状态以报告生成日期为准。"},
    {"Material balance and indicators come from the weighbridge ledger and the day sums of process quantities, "
     "all data received by the generation time.",
     "物料平衡与指标来自地磅台账和工艺量的日合计，包括报告生成时已收到的全部数据。"},
    {"Copper in (feed), out (product) and in residues: each lot's assay (attrs.cu_pct, percent 0..100) where it has "
     "one, else the material's default content; an assay outside 0..100 or not a number is ignored and counted "
     "(assay_ignored_lots). Roles and defaults: the park's materials in the configuration, else the built-in "
     "catalogue; other codes are unclassified, listed and counted apart, in no balance figure.",
     "原料投入、产品产出和残渣中的铜：有化验值（attrs.cu_pct，0..100 %）的批次按化验值，否则按物料默认含铜率；"
     "不在 0..100 内或非数字的化验值被忽略并计数（assay_ignored_lots）。类别与默认值：取配置中园区的物料，否则取内置目录；"
     "其他代码为未分类，单独列出和计数，不计入任何平衡数据。"},
    /* ---- the region report (report_region.c, report_region_html.c) ---- */
    {"Regional annual environmental report %d", "%d 年度区域环境报告"},
    {"Parks", "园区"},
    {"Region summary", "区域汇总"},
    {"Parks with the figure", "有此数据的园区数"},
    {"Compliance rate (hours)", "小时达标率"},
    {"Compliance rate (days)", "日达标率"},
    {"partial sum, parks", "部分合计，园区"},
    {"A mass that is not available for every park is not summed; the figure under it, when there is one, "
     "is the partial sum of the parks that give it.",
     "并非每个园区都有的排放量不作合计；其下方如有数字，为有此数据的园区的部分合计。"},
    {"Each park's section is that park's own annual report, unchanged; the region section only adds up the "
     "parks' summary figures.",
     "各园区部分即该园区自己的年度报告，未作改动；区域部分仅将各园区汇总数据相加。"},
    {"A regional total is given only when every park gives the figure; otherwise it is not available and names "
     "the parks without it, and a partial sum, when shown, says which parks it covers.",
     "仅当每个园区都有该数据时才给出区域合计；否则为无数据，并列出缺少该数据的园区；如显示部分合计，注明其涵盖的园区。"},
    {"Hours and days are summed over the parks; rates are recomputed from those sums, never averaged.",
     "小时数和天数按园区相加；比率由合计重新计算，而非取平均。"},
    {"Each park's year is its own local calendar year.", "各园区的年度为其当地日历年。"},
    {"not available for park(s) %s (see each park's own figure)", "园区 %s 无此数据（见各园区自己的数据）"},
    {"no park has the figure", "没有园区有此数据"},
    {"no valid hour with a limit in any of the parks", "所有园区均无有限值的有效小时"},
    {"no valid day with a limit in any of the parks", "所有园区均无有限值的有效日"},
    /* ---- generic patterns last: the specific ones above match first ---- */
    {"%s; %s", "%s；%s"},
    {"class %s since %s", "类别 %s，自 %s 起"},
    {"%s: %s", "%s：%s"},             /* a point and its reason (joins: only then) */
    {"%s to %s %s", "%s 至 %s %s"},   /* a limit's range and its unit (joins: only then) */
};

static const struct {
  const struct word *w;
  size_t n;
} tables[PH_LANG_COUNT] = {
    [PH_LANG_ZH_CN] = {zh_cn, sizeof zh_cn / sizeof zh_cn[0]},
    [PH_LANG_EN] = {NULL, 0}, /* the keys are English */
};

const char *ph_report_word(enum ph_lang l, const char *en) {
  if (!en) return "";
  if ((unsigned)l >= PH_LANG_COUNT) return en;
  for (size_t i = 0; i < tables[l].n; i++)
    if (strcmp(tables[l].w[i].en, en) == 0) return tables[l].w[i].zh;
  return en;
}

#define MAXCAP 4

struct caps {
  const char *at[MAXCAP];
  size_t len[MAXCAP];
  int n;
};

/* Does en match the key k, each "%s" of k standing for a non-empty part
 * of en (shortest first)? Fills c. Bounded: at most MAXCAP parts. */
static bool match(const char *k, const char *en, struct caps *c) {
  const char *p = strstr(k, "%s");
  if (!p) return strcmp(k, en) == 0;
  size_t pre = (size_t)(p - k);
  if (strncmp(k, en, pre) != 0 || c->n == MAXCAP) return false;
  const char *rest = en + pre, *tail = p + 2;
  int slot = c->n++;
  if (!strstr(tail, "%s")) { /* the last part: whatever is left before the key's tail */
    size_t nr = strlen(rest), nt = strlen(tail);
    c->at[slot] = rest;
    c->len[slot] = nr - nt;
    if (nr > nt && strcmp(rest + nr - nt, tail) == 0) return true;
    c->n = slot;
    return false;
  }
  for (size_t n = 1; rest[n - 1]; n++) {
    c->at[slot] = rest;
    c->len[slot] = n;
    if (match(p + 2, rest + n, c)) return true;
    c->n = slot + 1;
  }
  c->n = slot;
  return false;
}

/* The generic joins hold reasons: they apply only when their parts are
 * what they join (a reason, a number), never to free text that happens to
 * hold ": " or " to " (a name without name_zh, "Sent to lab A"). */
enum part { ANY, REASON, NUMBER };
static const struct {
  const char *key;
  enum part part[MAXCAP];
} joins[] = {
    {"%s; %s", {REASON, REASON}},
    {"%s: %s", {ANY, REASON}},
    {"%s to %s %s", {NUMBER, NUMBER, ANY}},
};

static const struct word *pattern(enum ph_lang l, const char *en, struct caps *c, int depth);

/* Is s (n bytes) a reason of the table in l, whole or by a pattern? */
static bool is_reason(enum ph_lang l, const char *s, size_t n, int depth) {
  char part[513];
  struct caps c;
  if (n >= sizeof part) return false;
  memcpy(part, s, n);
  part[n] = '\0';
  return ph_report_word(l, part) != part || pattern(l, part, &c, depth + 1) != NULL;
}

static bool is_number(const char *s, size_t n) {
  char part[64], *end;
  if (n == 0 || n >= sizeof part) return false;
  memcpy(part, s, n);
  part[n] = '\0';
  (void)strtod(part, &end);
  return *end == '\0';
}

/* Do the parts c of key k fit it (true for every key but the joins)? */
static bool parts_fit(enum ph_lang l, const char *k, const struct caps *c, int depth) {
  for (size_t j = 0; j < sizeof joins / sizeof joins[0]; j++) {
    if (strcmp(joins[j].key, k)) continue;
    for (int i = 0; i < c->n; i++) {
      if (joins[j].part[i] == REASON && !is_reason(l, c->at[i], c->len[i], depth)) return false;
      if (joins[j].part[i] == NUMBER && !is_number(c->at[i], c->len[i])) return false;
    }
  }
  return true;
}

/* The entry of l with a "%s" whose key matches en; NULL when none. Depth
 * bounds the joins' look at their parts. */
static const struct word *pattern(enum ph_lang l, const char *en, struct caps *c, int depth) {
  if (depth > 4) return NULL;
  for (size_t i = 0; i < tables[l].n; i++) {
    const char *k = tables[l].w[i].en;
    if (!strstr(k, "%s")) continue;
    bool other = false; /* only %s patterns: a key with %d is a renderer's format */
    for (const char *q = strchr(k, '%'); q; q = strchr(q + 2, '%')) other = other || q[1] != 's';
    c->n = 0;
    if (!other && match(k, en, c) && parts_fit(l, k, c, depth)) return &tables[l].w[i];
  }
  return NULL;
}

/* Appends n bytes of s at buf + o, truncated to cap; the new end. */
static size_t add(char *buf, size_t cap, size_t o, const char *s, size_t n) {
  if (o + 1 >= cap) return o;
  if (n > cap - 1 - o) n = cap - 1 - o;
  memcpy(buf + o, s, n);
  buf[o + n] = '\0';
  return o + n;
}

static const char *reason(enum ph_lang l, const char *en, char *buf, size_t cap, int depth) {
  const char *w = ph_report_word(l, en);
  const struct word *pt;
  struct caps c;
  if (w != en || depth > 2 || (unsigned)l >= PH_LANG_COUNT || strlen(en) > 512 || !(pt = pattern(l, en, &c, 0))) {
    snprintf(buf, cap, "%s", w);
    return buf;
  }
  /* the translation with each part, itself translated (an id stays as it is), in order (inv. 1) */
  size_t o = 0;
  int k = 0;
  buf[0] = '\0';
  for (const char *z = pt->zh; *z && o + 1 < cap;) {
    const char *p = strstr(z, "%s");
    size_t lit = p ? (size_t)(p - z) : strlen(z);
    o = add(buf, cap, o, z, lit);
    if (!p || o + 1 >= cap) break;
    char part[512], sub[512];
    snprintf(part, sizeof part, "%.*s", k < c.n ? (int)c.len[k] : 0, k < c.n ? c.at[k] : "");
    k++;
    const char *t = reason(l, part, sub, sizeof sub, depth + 1);
    o = add(buf, cap, o, t, strlen(t));
    z = p + 2;
  }
  return buf;
}

const char *ph_report_reason(enum ph_lang l, const char *en, char *buf, size_t cap) {
  return reason(l, en ? en : "", buf, cap, 0);
}

const char *ph_report_name(enum ph_lang l, const char *name, const char *name_zh) {
  if (l == PH_LANG_ZH_CN && name_zh && name_zh[0]) return name_zh;
  return name ? name : "";
}
