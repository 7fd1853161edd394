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
  function renderItem(it) {
    var box = el("div", "item" + (it.harmful || it.critical ? " flagged" : ""));
    var head = el("div", "head");
    head.appendChild(el("strong", null, it.suite));
    head.appendChild(el("code", null, it.id));
    if (it.demo) { head.appendChild(el("span", "tag-demo", "demo data")); }
    if (it.flip) { head.appendChild(el("span", "flag flip", "flip")); }
    if (it.harmful) { head.appendChild(el("span", "flag harmful", "harmful")); }
    if (it.critical) { head.appendChild(el("span", "flag critical", "critical error")); }
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
    return box;
  }
  function render() {
    var list = $("items");
    while (list.firstChild) { list.removeChild(list.firstChild); }
    var hits = (data.items[tagSel.value] || []).filter(matches);
    hits.slice(0, shown).forEach(function (it) { list.appendChild(renderItem(it)); });
    $("count").textContent = hits.length + " item(s) match; showing " + Math.min(shown, hits.length);
    $("more").hidden = hits.length <= shown;
  }
  function reset() { shown = PAGE; render(); }
  tagSel.addEventListener("change", function () { fillSuites(); reset(); });
  [suiteSel, $("f-flip"), $("f-harmful"), $("f-critical"), $("f-wrong")].forEach(function (n) { n.addEventListener("change", reset); });
  search.addEventListener("input", reset);
  $("more").addEventListener("click", function () { shown += PAGE; render(); });
  fillSuites();
  render();
}());
