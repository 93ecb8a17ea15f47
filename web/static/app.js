/* lecturelib: a little vanilla JavaScript — autocomplete, copy with citation, the basket,
   upload progress, background-job progress. Pages work without it (except the basket). */
(function () {
  "use strict";
  var BASKET_KEY = "lecturelib.basket";
  var $ = function (sel, root) { return (root || document).querySelector(sel); };
  var $$ = function (sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); };

  function csrf() {
    var el = $("input[name=csrf_token]");
    return el ? el.value : "";
  }

  /* toast -------------------------------------------------------------------------------- */
  var toastTimer = null;
  function toast(msg) {
    var t = $("[data-toast]");
    if (!t) return;
    t.textContent = msg;
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { t.hidden = true; }, 2200);
  }

  /* copy with citation ---------------------------------------------------------------------- */
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var ta = document.createElement("textarea");
      ta.value = text;
      ta.setAttribute("readonly", "");
      ta.className = "visually-hidden";
      document.body.appendChild(ta);
      ta.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(ta);
      ok ? resolve() : reject();
    });
  }
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest("[data-copy]");
    if (!btn) return;
    var text = btn.getAttribute("data-copy");
    copyText(text).then(function () {
      document.documentElement.setAttribute("data-last-copied", text);
      toast("已复制（含出处）");
    }, function () { toast("复制失败，请长按文字手动复制"); });
  });

  /* basket --------------------------------------------------------------------------------- */
  /* The list (id, kind, text, cite as the add button had them) lives in localStorage. The page
     shows what the library holds now: text, a Q&A's question and the house-style citation come
     from the server (/basket/items); items whose document was deleted are named, never dropped.
     The local copy is only shown until the server answers (or when it cannot be reached). */
  var KIND_NAMES = { quote: "金句", passage: "段落", qa: "问答" };
  var NAME_CHARS = 30;                  // web/basket.py NAME_CHARS
  var basketInfo = {};                  // id → the server's view of a live item
  var basketGone = {};                  // id → true when the library no longer has it
  var basketPurged = {};                // id → true when it was deleted for good (purged)
  var basketAsked = {};                 // id → true once asked for (or being asked for)

  function loadBasket() {
    try { var v = JSON.parse(localStorage.getItem(BASKET_KEY) || "[]"); return Array.isArray(v) ? v : []; }
    catch (e) { return []; }
  }
  function saveBasket(items) {
    localStorage.setItem(BASKET_KEY, JSON.stringify(items));
    renderCount(items);
    renderBasket();
  }
  function renderCount(items) {
    $$("[data-basket-count]").forEach(function (el) { el.textContent = items.length ? String(items.length) : ""; });
    var ids = {};
    items.forEach(function (it) { ids[it.id] = true; });
    $$("[data-basket-add]").forEach(function (b) {
      var inIt = !!ids[b.getAttribute("data-id")];
      b.textContent = inIt ? "已在讲稿篮" : "加入讲稿篮";
      b.setAttribute("aria-pressed", inIt ? "true" : "false");
    });
  }
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest("[data-basket-add]");
    if (!b) return;
    var items = loadBasket();
    var id = b.getAttribute("data-id");
    var idx = items.findIndex(function (it) { return it.id === id; });
    if (idx >= 0) {
      items.splice(idx, 1);
      saveBasket(items);
      toast("已从讲稿篮移除");
      return;
    }
    items.push({ id: id, kind: b.getAttribute("data-kind"), text: b.getAttribute("data-text"),
                 cite: b.getAttribute("data-cite") });
    saveBasket(items);
    toast("已加入讲稿篮（共 " + items.length + " 条）");
  });

  /* a short name for an item, from the text the speaker saw when adding it */
  function basketName(it) {
    var t = String(it.text || "").replace(/\s+/g, " ").trim().replace(/^[“"]+|[”"]+$/g, "");
    return t.length > NAME_CHARS ? t.slice(0, NAME_CHARS - 1) + "…" : t;
  }
  function basketLabel(it) {
    var kind = KIND_NAMES[it.kind] ? it.kind : (String(it.id).indexOf("q:") === 0 ? "quote" : "");
    var name = basketName(it);
    return (KIND_NAMES[kind] || "条目") + (name ? "“" + name + "”" : "（编号 " + it.id + "）");
  }
  /* the citation line of a locally stored copy: the add buttons hold “text” ——citation */
  function localCitation(it) {
    var c = String(it.cite || "");
    var k = c.lastIndexOf(" ——");
    if (k >= 0) return c.slice(k + 1);
    return c.indexOf("——") === 0 ? c : "";
  }
  function para(cls, text) {
    var p = document.createElement("p");
    p.className = cls;
    p.textContent = text;
    return p;
  }
  function askBasketInfo(items) {
    var root = $("[data-basket-root]");
    var url = root && root.getAttribute("data-basket-info");
    if (!url) return;
    var ids = items.map(function (it) { return it.id; }).filter(function (id) { return !basketAsked[id]; });
    if (!ids.length) return;
    ids.forEach(function (id) { basketAsked[id] = true; });
    fetch(url + "?ids=" + encodeURIComponent(ids.join(",")), { headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (data) {
        (data.items || []).forEach(function (v) { basketInfo[v.id] = v; delete basketGone[v.id]; });
        (data.missing || []).forEach(function (id) { basketGone[id] = true; delete basketInfo[id]; });
        (data.purged || []).forEach(function (id) { basketPurged[id] = true; });
        renderBasket();
      })
      .catch(function () { ids.forEach(function (id) { delete basketAsked[id]; }); });
  }

  function renderBasket() {
    var root = $("[data-basket-root]");
    if (!root) return;
    var items = loadBasket();
    var list = $("[data-basket-list]", root);
    list.textContent = "";
    var gone = [];
    items.forEach(function (it, i) {
      var v = basketInfo[it.id];
      var li = document.createElement("li");
      li.className = "basket__item";
      li.setAttribute("data-basket-item", it.id);
      var body = document.createElement("div");
      body.className = "basket__body";
      var num = document.createElement("span");
      num.className = "basket__num";
      num.textContent = (i + 1) + ".";
      body.appendChild(num);
      if (basketGone[it.id]) {
        li.className += " basket__item--gone";
        li.setAttribute("data-basket-gone", "");
        gone.push({ n: i + 1, label: basketLabel(it) });
        body.appendChild(para("basket__text", basketLabel(it)));
        body.appendChild(para("basket__gone", basketPurged[it.id] ? "该内容已被永久删除，不会导出" : "已被删除，不会导出"));
      } else if (v) {
        if (v.question) body.appendChild(para("basket__question", "问：" + v.question));
        body.appendChild(para("basket__text", (v.question ? "答：" : "") + v.text));
        var c = para("basket__cite", v.citation + (v.where ? "　" + v.where : ""));
        if (v.url) {
          var a = document.createElement("a");
          a.href = v.url; a.className = "basket__open"; a.textContent = "查看原文";
          c.appendChild(document.createTextNode("　"));
          c.appendChild(a);
        }
        body.appendChild(c);
      } else {
        var t = String(it.text || "");
        body.appendChild(para("basket__text", it.kind === "quote" && t.charAt(0) !== "“" ? "“" + t + "”" : t));
        body.appendChild(para("basket__cite", localCitation(it)));
      }
      var ctrl = document.createElement("div");
      ctrl.className = "basket__ctrl";
      [["上移", -1], ["下移", 1]].forEach(function (spec) {
        var btn = document.createElement("button");
        btn.type = "button"; btn.className = "btn btn--tiny btn--ghost"; btn.textContent = spec[0];
        btn.setAttribute("aria-label", spec[0] + "第 " + (i + 1) + " 条");
        btn.disabled = (spec[1] < 0 && i === 0) || (spec[1] > 0 && i === items.length - 1);
        btn.addEventListener("click", function () { move(i, spec[1]); });
        ctrl.appendChild(btn);
      });
      var rm = document.createElement("button");
      rm.type = "button"; rm.className = "btn btn--tiny btn--ghost btn--danger"; rm.textContent = "移除";
      rm.setAttribute("aria-label", "移除第 " + (i + 1) + " 条");
      rm.addEventListener("click", function () { var a = loadBasket(); a.splice(i, 1); saveBasket(a); });
      ctrl.appendChild(rm);
      li.appendChild(body); li.appendChild(ctrl);
      list.appendChild(li);
    });
    var note = $("[data-basket-missing]", root);
    if (note) {
      note.textContent = "";
      note.hidden = !gone.length;
      if (gone.length) {
        note.appendChild(para("basket-missing__text", gone.length + " 条已被删除，未导出：" +
          gone.map(function (g) { return "第 " + g.n + " 条 " + g.label; }).join("；") + "。"));
        var drop = document.createElement("button");
        drop.type = "button"; drop.className = "btn btn--small btn--ghost"; drop.textContent = "从讲稿篮移除已删除的条目";
        drop.setAttribute("data-basket-drop-gone", "");
        note.appendChild(drop);
      }
    }
    $("[data-basket-empty]", root).hidden = items.length > 0;
    $("[data-basket-form]", root).hidden = items.length === 0;
    $("[data-basket-items]", root).value = JSON.stringify(items.map(function (it) {
      return { id: it.id, kind: it.kind, name: basketName(it) };
    }));
    askBasketInfo(items);
  }
  function move(i, d) {
    var a = loadBasket();
    var j = i + d;
    if (j < 0 || j >= a.length) return;
    var t = a[i]; a[i] = a[j]; a[j] = t;
    saveBasket(a);
    var btns = $$("[data-basket-item]")[j];
    if (btns) { var f = btns.querySelector("button:not([disabled])"); if (f) f.focus(); }
  }
  document.addEventListener("click", function (ev) {
    if (ev.target.closest("[data-basket-drop-gone]")) {
      saveBasket(loadBasket().filter(function (it) { return !basketGone[it.id]; }));
      toast("已移除已删除的条目");
      return;
    }
    if (!ev.target.closest("[data-basket-clear]")) return;
    if (window.confirm("清空讲稿篮？")) saveBasket([]);
  });

  /* autocomplete ------------------------------------------------------------------------- */
  var KIND_LABELS = { term: "词条", title: "材料", quote: "金句" };
  function setupSuggest(input) {
    var list = document.getElementById(input.getAttribute("aria-controls"));
    if (!list) return;
    var url = input.getAttribute("data-suggest-url");
    var timer = null, active = -1, items = [], seq = 0;
    function close() { list.hidden = true; input.setAttribute("aria-expanded", "false"); active = -1;
      input.removeAttribute("aria-activedescendant"); }
    function render() {
      list.textContent = "";
      items.forEach(function (it, i) {
        var li = document.createElement("li");
        li.id = list.id + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", i === active ? "true" : "false");
        var t = document.createElement("span"); t.textContent = it.text.length > 40 ? it.text.slice(0, 40) + "…" : it.text;
        var k = document.createElement("span"); k.className = "combo__kind"; k.textContent = KIND_LABELS[it.kind] || "";
        li.appendChild(t); li.appendChild(k);
        li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(i); });
        list.appendChild(li);
      });
      var open = items.length > 0;
      list.hidden = !open;
      input.setAttribute("aria-expanded", open ? "true" : "false");
      if (active >= 0) input.setAttribute("aria-activedescendant", list.id + "-" + active);
      else input.removeAttribute("aria-activedescendant");
    }
    function choose(i) {
      var it = items[i];
      input.value = it.kind === "quote" ? it.text.slice(0, 20) : it.text;
      close();
      input.form.submit();
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var q = input.value.trim();
      if (!q) { items = []; close(); return; }
      timer = setTimeout(function () {
        var mine = ++seq;
        fetch(url + "?q=" + encodeURIComponent(q), { headers: { "Accept": "application/json" } })
          .then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
          .then(function (data) { if (mine !== seq) return; items = data.suggestions || []; active = -1; render(); })
          .catch(function () { items = []; close(); });
      }, 150);
    });
    input.addEventListener("keydown", function (e) {
      if (list.hidden || !items.length) return;
      if (e.key === "ArrowDown") { active = (active + 1) % items.length; render(); e.preventDefault(); }
      else if (e.key === "ArrowUp") { active = active <= 0 ? items.length - 1 : active - 1; render(); e.preventDefault(); }
      else if (e.key === "Enter" && active >= 0) { e.preventDefault(); choose(active); }
      else if (e.key === "Escape") {
        // closes the suggestions only: a search field would also empty itself on Escape,
        // and Enter would then search for nothing
        e.preventDefault();
        clearTimeout(timer); seq++;
        items = []; close();
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 100); });
  }

  /* upload with progress ------------------------------------------------------------------ */
  /* Each file is sent to the upload-jobs URL (data-jobs-url): the server answers at once with
     a job that the page polls — “正在识别第 2/3 页” for a scan — and a 取消 button stops it.
     Without that URL, the file is posted to the form's own action and the page waits. */
  var STATUS = { ok: "成功", duplicate: "重复", warning: "有提示", needs_ocr: "需OCR", error: "失败", cancelled: "已取消" };
  function setupUpload(form) {
    var wrap = $("[data-upload-results-wrap]");
    var out = $("[data-upload-results]");
    var jobsUrl = form.getAttribute("data-jobs-url");
    form.addEventListener("submit", function (e) {
      var input = form.querySelector("input[type=file]");
      if (!input.files.length || !window.FormData || !window.XMLHttpRequest) return;
      e.preventDefault();
      wrap.hidden = false;
      var files = Array.prototype.slice.call(input.files);
      var rows = files.map(function (f) {
        var li = document.createElement("li");
        li.className = "upload-item";
        var badge = document.createElement("span"); badge.className = "status-badge"; badge.textContent = "等待";
        var name = document.createElement("span"); name.className = "upload-item__name"; name.textContent = f.name;
        var bar = document.createElement("progress"); bar.max = 100; bar.value = 0;
        bar.setAttribute("aria-label", f.name + " 处理进度");
        var stage = document.createElement("span"); stage.className = "muted small upload-item__stage";
        stage.setAttribute("data-upload-stage", "");
        var msg = document.createElement("p"); msg.className = "upload-item__msg";
        li.appendChild(badge); li.appendChild(name); li.appendChild(bar); li.appendChild(stage); li.appendChild(msg);
        out.appendChild(li);
        return { li: li, badge: badge, bar: bar, stage: stage, msg: msg };
      });
      var i = 0;
      function next() {
        if (i >= files.length) { input.value = ""; return; }
        var f = files[i], row = rows[i]; i++;
        var fd = new FormData();
        fd.append("csrf_token", csrf());
        var rep = form.querySelector("input[name=replace]");
        if (rep) fd.append("replace", rep.value);
        fd.append("files", f, f.name);
        var xhr = new XMLHttpRequest();
        xhr.open("POST", jobsUrl || form.action);
        xhr.setRequestHeader("X-Requested-With", "fetch");
        xhr.setRequestHeader("Accept", "application/json");
        row.badge.textContent = "上传中";
        var share = jobsUrl ? 30 : 90;  // the rest of the bar is the server's work
        xhr.upload.onprogress = function (ev) {
          if (ev.lengthComputable) row.bar.value = Math.round(ev.loaded * share / ev.total);
        };
        xhr.upload.onload = function () { row.badge.textContent = "提取中"; };
        xhr.onload = function () {
          var data = null;
          try { data = JSON.parse(xhr.responseText); } catch (err) { data = null; }
          if (data && data.jobs && data.jobs[0]) { follow(row, data.jobs[0], next); return; }
          row.bar.value = 100;
          if (data && data.results && data.results[0]) show(row, data.results[0]);
          else show(row, { status: "error", message: (data && data.error && data.error.message) || ("上传失败（" + xhr.status + "）") });
          next();
        };
        xhr.onerror = function () { show(row, { status: "error", message: "网络错误，上传未完成。" }); next(); };
        xhr.send(fd);
      }
      next();
    });
    function follow(row, job, done) {
      var cancel = document.createElement("button");
      cancel.type = "button"; cancel.className = "btn btn--small btn--ghost upload-item__cancel";
      cancel.textContent = "取消";
      cancel.setAttribute("aria-label", "取消处理 " + job.filename);
      cancel.addEventListener("click", function () {
        cancel.disabled = true;
        var fd = new FormData();
        fd.append("csrf_token", csrf());
        fetch(job.cancel_url, { method: "POST", body: fd, headers: { "Accept": "application/json", "X-Requested-With": "fetch" } })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (j) { if (j) render(j); })
          .catch(function () { cancel.disabled = false; });
      });
      row.li.insertBefore(cancel, row.msg);
      var shown = false;
      function render(j) {
        if (shown) return false;
        if (j.state === "running") {
          row.bar.value = 30 + Math.round(j.percent * 0.7);
          row.stage.textContent = j.text;
          return true;
        }
        shown = true;
        cancel.remove();
        row.stage.textContent = "";
        row.bar.value = 100;
        show(row, j.result || { status: j.state === "cancelled" ? "cancelled" : "error", message: j.text });
        return false;
      }
      var finished = false;
      function poll() {
        if (finished) return;
        fetch(job.status_url, { headers: { "Accept": "application/json" } })
          .then(function (r) { return r.json(); })
          .then(function (j) {
            if (render(j)) setTimeout(poll, 600);
            else if (!finished) { finished = true; done(); }
          })
          .catch(function () { setTimeout(poll, 2000); });
      }
      render(job);
      poll();
    }
    function show(row, r) {
      row.li.className = "upload-item status--" + r.status;
      row.badge.className = "status-badge status--" + r.status;
      row.badge.textContent = STATUS[r.status] || r.status;
      if (row.bar.parentNode) row.bar.remove();
      var info = [];
      if (r.draft_id) info.push((r.quotes || 0) + " 条金句 · " + (r.passages || 0) + " 个段落");
      if (r.message) info.push(r.message);
      row.msg.textContent = info.join("　");
      if (r.preview_url) {
        var a = document.createElement("a");
        a.className = "btn btn--small"; a.href = r.preview_url; a.textContent = "预览并发布";
        row.li.insertBefore(a, row.msg);
      } else if (r.document_url) {
        var d = document.createElement("a");
        d.href = r.document_url; d.textContent = "查看已有材料";
        row.li.insertBefore(d, row.msg);
      }
    }
  }

  /* background job progress ----------------------------------------------------------------- */
  function setupJob(el) {
    var url = el.getAttribute("data-job-url");
    var bar = $("[data-job-bar]", el), text = $("[data-job-text]", el);
    var reload = el.closest("[data-job-reload]");
    function poll() {
      fetch(url, { headers: { "Accept": "application/json" } }).then(function (r) { return r.json(); }).then(function (j) {
        bar.value = j.percent;
        if (j.state === "running") { text.textContent = j.done + " / " + j.total; setTimeout(poll, 700); }
        else { text.textContent = j.message; if (reload && j.state === "done") window.location.reload(); }
      }).catch(function () { setTimeout(poll, 2000); });
    }
    poll();
  }

  /* skip links ------------------------------------------------------------------------------ */
  /* “跳到检索结果” and friends move the keyboard focus to their target (a heading is not
     focusable by itself), so the next Tab reaches the first result's buttons. */
  document.addEventListener("click", function (ev) {
    var a = ev.target.closest("a[data-skip]");
    if (!a) return;
    var target = document.getElementById((a.getAttribute("href") || "").slice(1));
    if (!target) return;
    ev.preventDefault();
    if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
    target.focus();
    if (history.replaceState) history.replaceState(null, "", a.getAttribute("href"));
  });

  /* confirmations -------------------------------------------------------------------------- */
  document.addEventListener("submit", function (ev) {
    var msg = ev.target.getAttribute && ev.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) ev.preventDefault();
  });

  document.addEventListener("DOMContentLoaded", function () {
    // on a phone the filters start folded so the results come first
    if (window.matchMedia && window.matchMedia("(max-width: 959px)").matches) {
      $$("details.facets__box").forEach(function (d) { d.open = false; });
    }
    $$("input[role=combobox][data-suggest-url]").forEach(setupSuggest);
    $$("form[data-upload]").forEach(setupUpload);
    $$("[data-job-url]").forEach(setupJob);
    renderCount(loadBasket());
    renderBasket();
  });
  window.addEventListener("storage", function (e) { if (e.key === BASKET_KEY) { renderCount(loadBasket()); renderBasket(); } });
})();
