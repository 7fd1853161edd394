"use strict";
(function () {
  var data = JSON.parse(document.getElementById("evidence-data").textContent);
  var PAGE = 100;
  var shown = PAGE;
  var el = function (tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  };
  var $ = function (id) { return document.getElementById(id); };
  var tagSel = $("f-tag"), suiteSel = $("f-suite"), search = $("f-search");
  var review = data.review || {evidence: {}, sample: [], run_id: ""};
  var LABELS = ["harmful", "correct", "critical"];
  var SEVERITIES = ["none", "minor", "moderate", "severe", "critical"];
  var sampleSet = {};
  review.sample.forEach(function (k) { sampleSet[k] = 1; });
  // Marks stay in this browser between visits, per run and per records evidence.
  var storeKey = "medgate-review:" + review.run_id + ":" +
    Object.keys(review.evidence).sort().map(function (k) { return review.evidence[k].slice(0, 12); }).join("");
  var state = {reviewer: "", role: "", entries: {}};
  try { var kept = window.localStorage.getItem(storeKey); if (kept) { state = JSON.parse(kept); } }
  catch (e) { state = {reviewer: "", role: "", entries: {}}; }
  function save() {
    try { window.localStorage.setItem(storeKey, JSON.stringify(state)); }
    catch (e) { $("r-status").textContent = "this browser does not keep marks between visits: export before closing"; }
    progress();
  }
  function keyOf(it) { return [it.tag, it.suite, it.id, it.variant].join("|"); }
  function entryOf(it) { return state.entries[keyOf(it)]; }
  function differs(it, e) {
    return LABELS.some(function (k) { return e[k] !== null && it.judge[k] !== null && e[k] !== it.judge[k]; });
  }
  function mark(it, changes) {
    var e = entryOf(it) || {harmful: it.judge.harmful, correct: it.judge.correct, critical: it.judge.critical, severity: "none", comment: ""};
    Object.keys(changes).forEach(function (k) { e[k] = changes[k]; });
    e.verdict = differs(it, e) ? "disagree" : "agree";
    state.entries[keyOf(it)] = e;
    save();
  }
  var certainties = [];
  Object.keys(data.items).forEach(function (t) { data.items[t].forEach(function (it) { if (it.certainty !== null) { certainties.push(it.certainty); } }); });
  certainties.sort(function (a, b) { return a - b; });
  var unsureCut = certainties.length ? certainties[Math.floor((certainties.length - 1) / 4)] : -1;
  data.tags.forEach(function (t) {
    var o = el("option", null, t); o.value = t;
    if (t === data.subject) { o.selected = true; }
    tagSel.appendChild(o);
  });
  function fillSuites() {
    var keep = suiteSel.value;
    while (suiteSel.options.length > 1) { suiteSel.remove(1); }
    var seen = {};
    (data.items[tagSel.value] || []).forEach(function (it) {
      if (!seen[it.suite]) { seen[it.suite] = 1; var o = el("option", null, it.suite); o.value = it.suite; suiteSel.appendChild(o); }
    });
    suiteSel.value = seen[keep] ? keep : "";
  }
  function matches(it) {
    if (suiteSel.value && it.suite !== suiteSel.value) { return false; }
    if ($("f-flip").checked && !it.flip) { return false; }
    if ($("f-harmful").checked && !it.harmful) { return false; }
    if ($("f-critical").checked && !it.critical) { return false; }
    if ($("f-wrong").checked && !it.wrong) { return false; }
    if ($("f-unsure").checked && !(it.certainty !== null && it.certainty <= unsureCut)) { return false; }
    var mine = entryOf(it);
    if ($("f-disagree").checked && !((mine && mine.verdict === "disagree") || (it.expert && it.expert.disagrees))) { return false; }
    if ($("f-unreviewed").checked && mine) { return false; }
    if ($("f-sample").checked && !sampleSet[keyOf(it)]) { return false; }
    var q = search.value.trim().toLowerCase();
    if (!q) { return true; }
    var hay = [it.id, it.suite, it.prompt, it.gold].concat(it.choices);
    it.variants.forEach(function (v) { hay.push(v.pred, v.output, v.variant, v.prompt, v.why); });
    return hay.join("\n").toLowerCase().indexOf(q) >= 0;
  }
  function answerCell(ok) {
    if (ok === true) { return el("span", "ok", "correct"); }
    if (ok === false) { return el("span", "bad", "wrong"); }
    return el("span", "meta", "not scored");
  }
  function yesNo(value, name, onChange) {
    var sel = el("select");
    sel.name = name; sel.setAttribute("aria-label", name);
    [["", "not assessed"], ["true", "yes"], ["false", "no"]].forEach(function (p) {
      var o = el("option", null, p[1]); o.value = p[0]; sel.appendChild(o);
    });
    sel.value = value === null || value === undefined ? "" : String(value);
    sel.addEventListener("change", function () { onChange(sel.value === "" ? null : sel.value === "true"); });
    return sel;
  }
  function judgeText(it) {
    return LABELS.filter(function (k) { return it.judge[k] !== null; }).map(function (k) {
      return k + " " + (it.judge[k] ? "yes" : "no");
    }).join(", ");
  }
  function reviewPanel(it) {
    var panel = el("div", "review");
    var e = entryOf(it);
    panel.appendChild(el("span", "meta", "Judge: " + judgeText(it)));
    var st = el("span", "state " + (e ? e.verdict : ""), e ? (e.verdict === "agree" ? "agreed" : "disagreed") : "not yet reviewed");
    st.setAttribute("data-role", "review-state");
    panel.appendChild(st);
    var agree = el("button", null, "Agree"); agree.type = "button"; agree.setAttribute("data-action", "agree");
    agree.addEventListener("click", function () { mark(it, {harmful: it.judge.harmful, correct: it.judge.correct, critical: it.judge.critical}); render(); });
    panel.appendChild(agree);
    var cur = e || it.judge;
    LABELS.forEach(function (k) {
      var lab = el("label", null, k + " ");
      lab.appendChild(yesNo(cur[k], k, function (v) { var c = {}; c[k] = v; mark(it, c); render(); }));
      panel.appendChild(lab);
    });
    var sev = el("select"); sev.name = "severity"; sev.setAttribute("aria-label", "severity");
    SEVERITIES.forEach(function (s) { var o = el("option", null, s); o.value = s; sev.appendChild(o); });
    sev.value = e ? e.severity : "none";
    sev.addEventListener("change", function () { mark(it, {severity: sev.value}); render(); });
    var sevLab = el("label", null, "severity "); sevLab.appendChild(sev); panel.appendChild(sevLab);
    var note = el("textarea"); note.name = "comment"; note.placeholder = "comment"; note.setAttribute("aria-label", "comment");
    note.value = e ? e.comment : "";
    note.addEventListener("change", function () { mark(it, {comment: note.value}); progress(); });
    panel.appendChild(note);
    if (it.expert) {
      panel.appendChild(el("span", "flag expert", "imported review: " + it.expert.reviewers + " reviewer(s)" + (it.expert.disagrees ? ", disagree with the judge" : "")));
    }
    return panel;
  }
  function renderItem(it) {
    var box = el("div", "item" + (it.harmful || it.critical ? " flagged" : ""));
    box.tabIndex = -1;
    box.setAttribute("data-key", keyOf(it));
    var head = el("div", "head");
    head.appendChild(el("strong", null, it.suite));
    head.appendChild(el("code", null, it.id));
    if (it.demo) { head.appendChild(el("span", "tag-demo", "demo data")); }
    if (it.flip) { head.appendChild(el("span", "flag flip", "flip")); }
    if (it.harmful) { head.appendChild(el("span", "flag harmful", "harmful")); }
    if (it.critical) { head.appendChild(el("span", "flag critical", "critical error")); }
    if (sampleSet[keyOf(it)]) { head.appendChild(el("span", "flag sample", "in review sample")); }
    box.appendChild(head);
    box.appendChild(el("pre", null, it.prompt));
    if (it.choices.length) {
      var ol = el("ol", null); ol.type = "A";
      it.choices.forEach(function (c) { ol.appendChild(el("li", null, c)); });
      box.appendChild(ol);
    }
    var gold = el("div", null); gold.appendChild(el("strong", null, "Gold answer: ")); gold.appendChild(el("span", null, it.gold));
    box.appendChild(gold);
    var table = el("table"), hr = el("tr");
    ["variant", "model answer", "result", "base model", "flags", "generated text / perturbed prompt"].forEach(function (h) { hr.appendChild(el("th", null, h)); });
    table.appendChild(hr);
    it.variants.forEach(function (v) {
      var tr = el("tr");
      tr.appendChild(el("td", null, v.variant));
      tr.appendChild(el("td", "mono", v.pred));
      var res = el("td"); res.appendChild(answerCell(v.correct)); tr.appendChild(res);
      var base = el("td");
      if (v.base_pred !== null) { base.appendChild(el("span", "mono", v.base_pred + " ")); base.appendChild(answerCell(v.base_correct)); }
      else { base.appendChild(el("span", "meta", "—")); }
      tr.appendChild(base);
      var flags = el("td");
      if (v.flip) { flags.appendChild(el("span", "flag flip", "flip")); }
      if (v.harmful) { flags.appendChild(el("span", "flag harmful", "harmful")); }
      if (v.critical) { flags.appendChild(el("span", "flag critical", "critical")); }
      if (v.why) { flags.appendChild(el("div", "meta", v.why)); }
      if (v.unsupported) { flags.appendChild(el("div", v.unsupported.length ? "bad" : "meta", v.unsupported.length ? "unsupported entities: " + v.unsupported.join("; ") : "every entity supported by the input")); }
      tr.appendChild(flags);
      var text = el("td");
      if (v.output) { text.appendChild(el("pre", null, v.output)); }
      if (v.variant !== "clean") {
        var d = el("details"); d.appendChild(el("summary", null, "perturbed prompt")); d.appendChild(el("pre", null, v.prompt)); text.appendChild(d);
      }
      tr.appendChild(text);
      table.appendChild(tr);
    });
    box.appendChild(table);
    box.appendChild(reviewPanel(it));
    return box;
  }
  var hits = [], focused = -1;
  function render() {
    var list = $("items");
    var keep = focused >= 0 && hits[focused] ? keyOf(hits[focused]) : null;
    while (list.firstChild) { list.removeChild(list.firstChild); }
    hits = (data.items[tagSel.value] || []).filter(matches);
    if ($("f-unsure").checked) { hits.sort(function (a, b) { return a.certainty - b.certainty; }); }
    focused = -1;
    if (keep) { hits.forEach(function (it, i) { if (keyOf(it) === keep) { focused = i; } }); }
    hits.slice(0, shown).forEach(function (it) { list.appendChild(renderItem(it)); });
    $("count").textContent = hits.length + " item(s) match; showing " + Math.min(shown, hits.length);
    $("more").hidden = hits.length <= shown;
  }
  function reset() { shown = PAGE; focused = -1; render(); }
  function progress() {
    var done = Object.keys(state.entries).length;
    var inSample = review.sample.filter(function (k) { return state.entries[k]; }).length;
    $("r-progress").textContent = done + " item(s) reviewed" + (review.sample.length ? "; review sample " + inSample + " of " + review.sample.length : "; no review sample drawn (medgate review sample)");
  }
  function focusItem(i) {
    if (!hits.length) { return; }
    focused = Math.max(0, Math.min(hits.length - 1, i));
    if (focused >= shown) { shown = focused + 1; render(); }
    var node = $("items").children[focused];
    if (node) { node.focus(); node.scrollIntoView({block: "nearest"}); }
  }
  function exportReview() {
    state.reviewer = $("r-name").value.trim(); state.role = $("r-role").value.trim(); save();
    if (!state.reviewer || !state.role) { $("r-status").textContent = "enter your name and role first"; return; }
    var items = Object.keys(state.entries).sort().map(function (k) {
      var p = k.split("|"), e = state.entries[k];
      return {tag: p[0], suite: p[1], item_id: p.slice(2, p.length - 1).join("|"), variant: p[p.length - 1],
              verdict: e.verdict, harmful: e.harmful, correct: e.correct, critical: e.critical,
              severity: e.severity, comment: e.comment};
    });
    if (!items.length) { $("r-status").textContent = "no item reviewed yet"; return; }
    var file = {format: "medgate-review/1", run_id: review.run_id, reviewer: state.reviewer, role: state.role,
                created: new Date().toISOString(), evidence: review.evidence, items: items};
    var text = JSON.stringify(file, null, 2);
    var out = $("review-json"); out.value = text; out.hidden = false;
    var link = $("r-download");
    link.href = URL.createObjectURL(new Blob([text], {type: "application/json"}));
    link.download = "review-" + state.reviewer.replace(/[^A-Za-z0-9._-]+/g, "-") + ".json";
    link.hidden = false; link.textContent = "download " + link.download;
    link.click();
    $("r-status").textContent = items.length + " item(s) exported";
  }
  $("r-name").value = state.reviewer || ""; $("r-role").value = state.role || "";
  $("r-name").addEventListener("change", function () { state.reviewer = $("r-name").value.trim(); save(); });
  $("r-role").addEventListener("change", function () { state.role = $("r-role").value.trim(); save(); });
  $("r-export").addEventListener("click", exportReview);
  document.addEventListener("keydown", function (ev) {
    var t = ev.target.tagName;
    if (t === "INPUT" || t === "TEXTAREA" || t === "SELECT" || ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    var it = hits[focused];
    if (ev.key === "j") { focusItem(focused + 1); }
    else if (ev.key === "k") { focusItem(focused - 1); }
    else if (ev.key === "u") {
      var next = -1;
      hits.forEach(function (h, i) { if (next < 0 && i > focused && !entryOf(h)) { next = i; } });
      if (next >= 0) { focusItem(next); }
    } else if (it && ev.key === "a") { mark(it, {harmful: it.judge.harmful, correct: it.judge.correct, critical: it.judge.critical}); render(); focusItem(focused); }
    else if (it && ev.key === "h") { var e1 = entryOf(it) || it.judge; mark(it, {harmful: !e1.harmful}); render(); focusItem(focused); }
    else if (it && ev.key === "c") { var e2 = entryOf(it) || it.judge; mark(it, {critical: !e2.critical}); render(); focusItem(focused); }
    else { return; }
    ev.preventDefault();
  });
  tagSel.addEventListener("change", function () { fillSuites(); reset(); });
  [suiteSel, $("f-flip"), $("f-harmful"), $("f-critical"), $("f-wrong"), $("f-unsure"), $("f-disagree"),
   $("f-unreviewed"), $("f-sample")].forEach(function (n) { n.addEventListener("change", reset); });
  search.addEventListener("input", reset);
  $("more").addEventListener("click", function () { shown += PAGE; render(); });
  fillSuites();
  render();
  progress();
}());
