// Streamlit's own English words in Chinese (app/streamlit_app.py injects this on every page).
//
// Streamlit 1.67 writes the words of its tables' toolbar and column menu, the show/hide-columns
// list, the date box's calendar button, the sidebar's toggles and the uploader's refusal in
// English, with no setting for them, and some of them are drawn only on hover or click, where
// a stylesheet cannot reach them. This watches the page and puts each known word in Chinese
// as Streamlit draws it: text, and the title, aria-label and placeholder that tooltips and
// screen readers read. Words it does not know stay as they are.
(() => {
  if (window.shouhuZhUi) return; // once per browser tab, whatever the reruns
  const WORDS = new Map(Object.entries({
    // The tables' toolbar, search and show/hide-columns list
    "Search": "搜索", "Type to search": "输入要找的内容", "Close Search": "关闭搜索",
    "Next Result": "下一个", "Previous Result": "上一个",
    "Fullscreen": "全屏", "Close fullscreen": "退出全屏",
    "Show/hide columns": "显示/隐藏列", "Select all": "全选", "(index)": "（行号）",
    // A column's menu
    "Dataframe column menu": "列菜单", "Copy column name": "复制列名",
    "Sort ascending": "升序排列", "Sort descending": "降序排列",
    "Statistics": "统计", "Format": "数字格式", "Autosize": "自动列宽",
    "Pin column": "固定此列", "Unpin column": "取消固定", "Hide column": "隐藏此列",
    "Count": "数量", "Distinct": "不同值", "Empty": "空值", "Values": "值",
    "Minimum": "最小值", "Maximum": "最大值", "Average": "平均值", "Median": "中位数",
    "Sum": "合计", "Standard deviation": "标准差", "Range": "范围",
    "Minimum length": "最短长度", "Maximum length": "最长长度", "Average length": "平均长度",
    "Based on sample": "按抽样估计",
    "Automatic": "自动", "Localized": "按本地习惯", "Plain": "原样", "Compact": "简写",
    "Percent": "百分比", "Scientific": "科学计数法", "Accounting": "会计格式",
    "Dollar": "美元", "Euro": "欧元",
    // The date box
    "Choose date": "选择日期",
    "Use arrow keys to navigate dates. Enter to select. Escape to close.":
      "用方向键选择日期，回车确定，Esc 关闭。",
    // The file uploader
    "Add files": "添加文件", "add icon": "添加", "file upload": "上传文件", "Error:": "错误：",
    // The sidebar and the page
    "Expand sidebar": "展开侧边栏", "Collapse sidebar": "收起侧边栏",
    "Skip to main content": "跳到正文",
  }));
  const PATTERNS = [
    // The uploader's refusal of a file type it was not given: "TXT files are not allowed."
    [/^(Error: )?(.+) files are not allowed\.?$/,
      (m, error, kind) => `${error ? "错误：" : ""}不接受 ${kind} 文件，请按上方说明选择文件`],
    [/^Remove (.+)$/, (m, name) => `移除 ${name}`],
  ];
  const ATTRIBUTES = ["title", "aria-label", "placeholder"];
  // Kept in English: the stylesheet hides the tables' own CSV download by this label.
  const KEEP = new Set(["Download as CSV"]);

  const say = (text) => {
    const word = text.trim();
    if (!word || KEEP.has(word)) return null;
    if (WORDS.has(word)) return text.replace(word, WORDS.get(word));
    for (const [pattern, make] of PATTERNS) {
      const match = word.match(pattern);
      if (match) return text.replace(word, make(...match));
    }
    return null;
  };
  const textNode = (node) => {
    const zh = say(node.nodeValue);
    if (zh !== null) node.nodeValue = zh;
  };
  const element = (el) => {
    for (const name of ATTRIBUTES) {
      const value = el.getAttribute(name);
      if (value === null) continue;
      const zh = say(value);
      if (zh !== null) el.setAttribute(name, zh);
    }
  };
  const walk = (root) => {
    if (root.nodeType === Node.TEXT_NODE) return textNode(root);
    if (root.nodeType !== Node.ELEMENT_NODE) return;
    element(root);
    const nodes = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
    for (let node = nodes.nextNode(); node; node = nodes.nextNode()) {
      if (node.nodeType === Node.TEXT_NODE) textNode(node);
      else element(node);
    }
  };
  const observer = new MutationObserver((changes) => {
    for (const change of changes) {
      if (change.type === "childList") change.addedNodes.forEach(walk);
      else if (change.type === "characterData") textNode(change.target);
      else element(change.target);
    }
  });
  observer.observe(document.body, {
    subtree: true, childList: true, characterData: true,
    attributes: true, attributeFilter: ATTRIBUTES,
  });
  walk(document.body);
  window.shouhuZhUi = observer;
})();
