/* Offline topic pack: browse and search with no server and no network.
   Search keeps the library's promise: any run of characters present in the pack is found,
   punctuation-blind like the library (“雄鹰”企业 is found by 雄鹰企业).
   The bigram postings built at export time narrow the candidates; the exact substring is then
   verified on each candidate's normalized text (NFKC + lower case, as the library does).
   A recording (视频/音频) is shown with its player (the file inside the pack, when it was
   included) beside its transcript: the passage being spoken is highlighted, a click on a line
   seeks there, and a search hit from a transcript shows its time and opens the player at that
   second (#doc=N&t=S). */
(function () {
  "use strict";
  var P = window.PACK;
  var $ = function (id) { return document.getElementById(id); };
  var esc = function (s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  };
  var lower = function (s) { return s.normalize("NFKC").toLowerCase(); };
  var ALNUM = /[\p{L}\p{N}]/u, LATIN = /[a-z0-9]/;
  /* The library's punctuation-blind form: letters and digits only, with one space kept
     between two Latin letters/digits that something separated (as the export does). */
  function strip(s, map) {
    var out = "", gap = false, prev = "";
    for (var i = 0; i < s.length; i++) {
      var c = s[i], code = s.charCodeAt(i);
      if (code >= 0xd800 && code <= 0xdbff && i + 1 < s.length) c += s[i + 1];
      var lc = lower(c);
      for (var j = 0; j < lc.length; j++) {
        var ch = lc[j];
        if (ALNUM.test(ch)) {
          if (gap && LATIN.test(prev) && LATIN.test(ch)) { out += " "; if (map) map.push(i); }
          out += ch; if (map) map.push(i);
          prev = ch; gap = false;
        } else if (out) { gap = true; }
      }
      if (c.length === 2) i++;
    }
    return out;
  }
  var norm = function (s) { return strip(s, null); };

  function candidates(term) {
    if (term.length < 2) return null;               // one character: every record is a candidate
    var best = null;
    for (var i = 0; i + 1 < term.length; i++) {
      var post = P.bigrams[term.slice(i, i + 2)];
      if (!post) return [];
      if (!best || post.length < best.length) best = post;
    }
    return best;                                    // the rarest bigram's postings
  }

  function queryTerms(q) {
    return q.split(/\s+/).map(norm).filter(Boolean);
  }

  function search(q) {
    var terms = queryTerms(q);
    if (!terms.length) return [];
    var pool = null;
    terms.forEach(function (t) {
      var c = candidates(t);
      if (c && (!pool || c.length < pool.length)) pool = c;
    });
    if (!pool) pool = P.records.map(function (_, i) { return i; });
    var hits = [];
    pool.forEach(function (i) {
      var text = P.norm[i], score = 0, r = P.records[i], own = null;
      for (var k = 0; k < terms.length; k++) {
        if (text.indexOf(terms[k]) < 0) return;
        own = own || norm(r.t);
        // a match in the quote or passage itself outranks one in its heading or title
        score += (own.indexOf(terms[k]) >= 0 ? 20 : 5) + text.split(terms[k]).length - 1;
      }
      if (r.k === "quote") score += 5;
      score -= Math.min(r.t.length, 2000) / 1000;
      hits.push({ i: i, score: score });
    });
    hits.sort(function (a, b) { return b.score - a.score || a.i - b.i; });
    return hits;
  }

  /* Wrap every match of the terms in <mark>, on the display text, escaping everything else. */
  function highlight(display, terms) {
    var map = [], n = strip(display, map);
    var marks = new Array(display.length + 1).fill(0);
    terms.forEach(function (t) {
      if (!t) return;
      var from = 0, at;
      while ((at = n.indexOf(t, from)) >= 0) {
        var s = map[at], e = map[at + t.length - 1];
        var end = e + 1;
        var cc = display.charCodeAt(e);
        if (cc >= 0xd800 && cc <= 0xdbff) end++;
        for (var x = s; x < end; x++) marks[x] = 1;
        from = at + 1;
      }
    });
    var out = "", open = false;
    for (var k = 0; k < display.length; k++) {
      if (marks[k] && !open) { out += "<mark>"; open = true; }
      if (!marks[k] && open) { out += "</mark>"; open = false; }
      out += esc(display[k]);
    }
    return out + (open ? "</mark>" : "");
  }

  /* 125.3 → “2:05” (“1:02:05” past an hour), as the library shows times. */
  function clock(sec) {
    var s = Math.floor(sec || 0), h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60;
    s = s % 60;
    var mm = h ? (m < 10 ? "0" : "") + m : String(m);
    return (h ? h + ":" : "") + mm + ":" + (s < 10 ? "0" : "") + s;
  }
  var at = function (n, t) { return "#doc=" + n + "&t=" + (Math.round(t * 10) / 10); };

  function card(i, terms) {
    var r = P.records[i], d = P.documents[r.d];
    var text = terms ? highlight(r.t, terms) : esc(r.t);
    var h = '<article class="card ' + r.k + '"><span class="kind">' + esc(P.hitKinds[r.k] || r.k) + "</span>";
    if (r.ts != null) h += '<a class="time" href="' + at(r.d, r.ts) + '" title="在录音/录像中从这里播放">▶ ' + clock(r.ts) + "</a>";
    if (r.h) h += '<span class="where">' + (terms ? highlight(r.h, terms) : esc(r.h)) + "</span>";
    h += '<p class="text">' + text + "</p>";
    if (r.s) h += '<p class="cite">——' + (terms ? highlight(r.s, terms) : esc(r.s)) + "</p>";
    var src = (r.src && r.src.length ? r.src : [r.d]).map(function (n) {
      return '《<a href="#doc=' + n + '">' + esc(P.documents[n].title) + "</a>》";
    });
    h += '<p class="where">' + (r.k === "quote" ? "摘自：" : "") + src.join("、") + (r.p ? " 第 " + r.p + " 页" : "") + "</p></article>";
    return h;
  }

  function showSearch(q) {
    var terms = queryTerms(q);
    var hits = search(q);
    var html = '<p class="status">“' + esc(q) + "”：找到 " + hits.length + " 条</p>";
    if (!hits.length) html += '<p class="status">没有找到。请换一个说法，或减少字词。</p>';
    hits.slice(0, 100).forEach(function (h) { html += card(h.i, terms); });
    if (hits.length > 100) html += '<p class="status">仅显示前 100 条，请输入更多字词缩小范围。</p>';
    $("content").innerHTML = html;
  }

  var player = null, cues = [], current = null;

  function seek(t) {
    if (!player) return;
    var go = function () { player.currentTime = t; };
    if (player.readyState >= 1) go();
    else player.addEventListener("loadedmetadata", go, { once: true });
  }

  function mark(t) {
    var found = null;
    for (var i = 0; i < cues.length; i++) {
      var s = parseFloat(cues[i].getAttribute("data-start")), e = parseFloat(cues[i].getAttribute("data-end"));
      if (t >= s && t < Math.max(e, s + 0.01)) { found = cues[i]; break; }
    }
    if (found === current) return;
    if (current) { current.classList.remove("cue--current"); current.removeAttribute("aria-current"); }
    current = found;
    if (current) {
      current.classList.add("cue--current");
      current.setAttribute("aria-current", "true");
      if (current.scrollIntoView) current.scrollIntoView({ block: "nearest" });
    }
  }

  /* A recording: its player (or why it is not in the pack) beside its transcript. */
  function showMedia(n, t) {
    var d = P.documents[n], m = d.media;
    var html = '<h2 class="doc">' + esc(d.title) + '</h2><p class="where">' + esc(P.kinds[d.kind] || d.kind) +
      (m.speaker ? " · 主讲人：" + esc(m.speaker) : "") + (d.date ? " · " + esc(d.date) : "") +
      " · 时长 " + esc(m.clock) + "</p>";
    html += '<div class="media-view"><div class="media-view__player">';
    if (m.file) {
      var tag = m.video ? "video" : "audio";
      html += "<" + tag + ' id="player" class="player" controls preload="metadata" src="' + esc(m.file) + '"' +
        (m.video && m.poster ? ' poster="' + esc(m.poster) + '"' : "") +
        "></" + tag + ">";
      html += '<p class="where"><a href="' + esc(m.file) + '" download="' + esc(d.filename) + '">下载录音/录像：' + esc(d.filename) + "</a></p>";
    } else {
      if (m.poster) html += '<img class="poster" alt="' + esc(d.title) + '的画面" src="' + esc(m.poster) + '">';
      html += '<p class="notice" role="note">本专题包没有附上这段录音/录像：' + esc(m.reason || "超出导出时设定的大小上限") +
        "。录音/录像时长 " + esc(m.clock) + "。下面是它的文稿，可以阅读和检索；需要录音/录像请向导出方索取。</p>";
    }
    html += '</div><div class="media-view__transcript"><h3>文稿</h3>';
    var timed = d.items.filter(function (i) { return P.records[i].ts != null; });
    var rest = d.items.filter(function (i) { return P.records[i].ts == null; });
    if (timed.length) {
      html += '<ol class="cues">';
      timed.forEach(function (i) {
        var r = P.records[i];
        html += '<li class="cue" data-start="' + r.ts + '" data-end="' + (r.te == null ? r.ts : r.te) + '">' +
          '<a class="cue__time" href="' + at(n, r.ts) + '" data-seek="' + r.ts + '">' + clock(r.ts) + "</a> " +
          '<span class="cue__text">' + esc(r.t) + "</span></li>";
      });
      html += "</ol>";
    } else if (!rest.length) {
      html += '<p class="status">这段录音/录像还没有文稿。</p>';
    }
    rest.forEach(function (i) { html += card(i, null); });
    html += "</div></div>";
    $("content").innerHTML = html;
    markNav(n);
    player = $("player");
    cues = Array.prototype.slice.call(document.querySelectorAll(".cue[data-start]"));
    current = null;
    if (player) {
      player.addEventListener("timeupdate", function () { mark(player.currentTime); });
      player.addEventListener("seeked", function () { mark(player.currentTime); });
    }
    if (t != null && !isNaN(t)) {
      if (player) seek(t);
      mark(t);
    }
  }

  function showDoc(n, t) {
    var d = P.documents[n];
    player = null; cues = []; current = null;
    if (!d) return showHome();
    if (d.media) return showMedia(n, t);
    var html = '<h2 class="doc">' + esc(d.title) + '</h2><p class="where">' + esc(P.kinds[d.kind] || d.kind) +
      (d.date ? " · " + esc(d.date) : "") + ' · <a href="' + esc(d.file) + '">原文件：' + esc(d.filename) + "</a></p>";
    if (d.headings.length) {
      html += '<ol class="outline">';
      d.headings.forEach(function (h) { html += "<li>" + esc(h[1]) + (h[2] ? "（第 " + h[2] + " 页）" : "") + "</li>"; });
      html += "</ol>";
    }
    d.items.forEach(function (i) { html += card(i, null); });
    $("content").innerHTML = html;
    markNav(n);
  }

  function showHome() {
    var c = P.counts;
    var md = P.media;
    player = null; cues = []; current = null;
    $("content").innerHTML = '<p class="status">本专题包共 ' + c.documents + " 份材料、" + c.quotes + " 条金句、" + c.passages +
      " 个段落" + (c.sources ? "（另有 " + c.sources + " 份其他专题的材料，仅收其中本专题的金句）" : "") +
      (md && md.recordings ? "；其中视频/音频 " + md.recordings + " 段，" + (md.included === md.recordings ? "都附有录音/录像，可直接播放" :
        !md.included ? "都只有文稿（录音/录像未随包）" :
        md.included + " 段附有录音/录像，其余 " + (md.recordings - md.included) + " 段只有文稿（录音/录像未随包）") : "") +
      "。在上方输入任意字词即可检索，或从左侧按类型浏览。</p>";
    markNav(-1);
  }

  function markNav(n) {
    Array.prototype.forEach.call(document.querySelectorAll("nav a"), function (a) {
      a.classList.toggle("on", a.getAttribute("href") === "#doc=" + n);
    });
  }

  function nav() {
    var groups = {}, sources = [];
    P.documents.forEach(function (d, i) {
      if (d.role === "source") sources.push(i);
      else (groups[d.kind] = groups[d.kind] || []).push(i);
    });
    var html = "";
    var list = function (title, items) {
      html += "<h2>" + esc(title) + "（" + items.length + "）</h2><ul>";
      items.forEach(function (i) { html += '<li><a href="#doc=' + i + '">' + esc(P.documents[i].title) + "</a></li>"; });
      html += "</ul>";
    };
    Object.keys(P.kinds).forEach(function (k) { if (groups[k]) list(P.kinds[k], groups[k]); });
    if (sources.length) list("金句出处（其他专题）", sources);
    $("nav").innerHTML = html;
  }

  function route() {
    var h = decodeURIComponent(location.hash.slice(1));
    if (h.indexOf("q=") === 0) { player = null; $("q").value = h.slice(2); showSearch(h.slice(2)); }
    else if (h.indexOf("doc=") === 0) {
      var m = /^doc=(\d+)(?:&t=([\d.]+))?/.exec(h) || [];
      showDoc(parseInt(m[1], 10), m[2] != null ? parseFloat(m[2]) : null);
    }
    else showHome();
  }

  $("title").textContent = P.topic + " · 专题包";
  $("meta").textContent = P.title;
  document.title = P.topic + " · 专题包";
  nav();
  $("search").addEventListener("submit", function (e) {
    e.preventDefault();
    var q = $("q").value.trim();
    if (q) location.hash = "q=" + encodeURIComponent(q); else location.hash = "";
  });
  window.addEventListener("hashchange", route);
  /* a line of the transcript: the player seeks there and plays (the address keeps the time) */
  $("content").addEventListener("click", function (ev) {
    var el = ev.target.closest ? ev.target.closest(".cue[data-start]") : null;
    if (!el || !player) return;
    ev.preventDefault();
    var t = parseFloat(el.getAttribute("data-start"));
    var link = el.querySelector("[data-seek]");
    if (link && history.replaceState) history.replaceState(null, "", link.getAttribute("href"));
    seek(t);
    mark(t);
    var played = player.play();
    if (played && played.catch) played.catch(function () {});
  });
  route();
  window.lecturelibPackSearch = search;
  window.lecturelibPackClock = clock;
})();
