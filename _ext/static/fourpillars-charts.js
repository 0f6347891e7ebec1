// Make the book's charts live, after the text and the charts' static drawings are on screen.
//
// Each figure arrives as a static drawing (an SVG image chosen by screen width, with its
// text alternative and a data table), so a reader without JavaScript, a reader view, a
// crawler and the PDF see every chart. This deferred script waits for the page's load
// event, then fetches the book's own Vega bundle (never a CDN) and, as each figure nears
// the viewport, its spec (figures/<name>.vl.js), and draws the same layout variant live
// over the drawing, in the same box: tooltips and controls appear, nothing moves.
// Figures further down are drawn when the browser is idle.
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script ? script.src : document.baseURI;
  var bundle = script && script.getAttribute("data-bundle");
  var media = JSON.parse((script && script.getAttribute("data-media")) || "{}");
  var specs = {}, waiting = {}, vega = null, drawn = 0, total = 0;

  // figures/<name>.vl.js calls this with the figure's spec.
  window.fourpillarsSpec = function (name, spec) {
    specs[name] = spec;
    (waiting[name] || []).forEach(function (done) { done(spec); });
  };

  function load(src) {
    return new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      s.src = src;
      s.async = true;
      s.onload = resolve;
      s.onerror = function () { reject(new Error("could not load " + src)); };
      document.head.appendChild(s);
    });
  }

  function vegaReady() {
    if (window.vegaEmbed) return Promise.resolve();
    if (!vega) vega = load(new URL(bundle, base).href);
    return vega;
  }

  function specOf(figure) {
    var inline = figure.querySelector("script.fp-spec");  // a notebook's output holds its spec
    if (inline) return Promise.resolve(JSON.parse(inline.textContent));
    var name = figure.getAttribute("data-figure");
    if (specs[name]) return Promise.resolve(specs[name]);
    return new Promise(function (resolve, reject) {
      (waiting[name] = waiting[name] || []).push(resolve);
      load(new URL(figure.getAttribute("data-spec"), document.baseURI).href).catch(reject);
    });
  }

  // The layout variant the screen width picks: the same media queries as the <picture>.
  function chosen() {
    var names = Object.keys(media);
    for (var i = 0; i < names.length; i++) {
      if (names[i] !== "L" && window.matchMedia(media[names[i]]).matches) return names[i];
    }
    return "L";
  }

  function variantSpec(spec, name) {
    var meta = spec.usermeta && spec.usermeta.fourpillars;
    if (name === "L" || !meta || !meta.variants || !meta.variants[name]) return spec;
    var out = Object.assign({}, meta.variants[name]);
    out.datasets = spec.datasets;
    return out;
  }

  // Tooltips read like the caption: the figure's own headings, and no empty lines (a row
  // without a note shows no "Note"). Every value goes through vega-tooltip's escaping.
  function formatTooltip(value, valueToHtml) {
    if (value === null || typeof value !== "object") return valueToHtml(String(value));
    var rows = "";
    Object.keys(value).forEach(function (key) {
      if (key === "title" || key === "image") return;
      var v = value[key];
      if (v === null || v === undefined || v === "" || v === "null" || v === "undefined" || v === "NaN") return;
      if (v === true || v === "true") v = "yes";
      else if (v === false || v === "false") v = "no";
      else if (typeof v === "object") v = JSON.stringify(v);
      rows += '<tr><td class="key">' + valueToHtml(key) + '</td><td class="value">' + valueToHtml(String(v)) + "</td></tr>";
    });
    return (value.title ? "<h2>" + valueToHtml(String(value.title)) + "</h2>" : "") + (rows ? "<table>" + rows + "</table>" : "");
  }

  // Vega measures text as it lays a chart out: load the charts' typeface (fourpillars/fonts.py,
  // both weights) first, or labels are measured in a fallback font and drawn in the book's.
  function fontsReady(spec) {
    var font = spec.config && spec.config.font;
    if (!font || !document.fonts) return Promise.resolve();
    return Promise.all([document.fonts.load("16px " + font), document.fonts.load("600 16px " + font)])
      .catch(function () {});
  }

  function draw(figure) {
    if (figure.fpDrawing) return figure.fpDrawing;
    var holder = figure.querySelector(".fp-chart");
    var variant = chosen();
    figure.fpDrawing = Promise.all([vegaReady(), specOf(figure)]).then(function (loaded) {
      return fontsReady(loaded[1]).then(function () { return loaded; });
    }).then(function (loaded) {
      var live = document.createElement("div");
      live.className = "fp-live";
      var overlay = !!holder.querySelector("picture");
      if (overlay) {
        holder.appendChild(live);
      } else {  // a notebook's output: the live chart takes the static drawing's place
        var still = holder.querySelector(".fp-static");
        if (still) still.remove();
        holder.appendChild(live);
      }
      return window.vegaEmbed(live, variantSpec(loaded[1], variant), {
        renderer: "svg",
        // No vega-embed menu: it would nest interactive controls inside the role="img" chart
        // and offer a third-party editor. Each figure's SVG, PNG and CSV links sit under it.
        actions: false,
        tooltip: {formatTooltip: formatTooltip},
      }).then(function (result) {
        // The chart's container carries its text alternative; Vega still gives mark containers
        // unlabelled graphics roles, so the drawing itself is hidden from assistive technology.
        live.querySelector("svg").setAttribute("aria-hidden", "true");
        if (figure.fpView) figure.fpView.finalize();
        var old = holder.querySelectorAll(".fp-live");
        for (var i = 0; i < old.length - 1; i++) old[i].remove();
        figure.fpView = result;
        figure.fpVariant = variant;
        // The drawing's text alternative moves to the container as the live chart hides the drawing.
        var img = holder.querySelector("picture img");
        if (img && holder.hasAttribute("data-role")) {
          holder.setAttribute("role", holder.getAttribute("data-role"));
          holder.setAttribute("aria-label", img.alt);
        }
        holder.classList.add("fp-is-live");
        if (figure.getAttribute("data-drawn") !== "true") {
          figure.setAttribute("data-drawn", "true");
          drawn += 1;
          document.documentElement.setAttribute("data-charts-drawn", String(drawn));
          if (drawn === total) {
            // For the benchmark: milliseconds from navigation start until the last chart was drawn.
            document.documentElement.setAttribute("data-charts-drawn-ms", String(Math.round(performance.now())));
          }
        }
      });
    }).catch(function (error) {
      figure.fpDrawing = null;  // the static drawing stays; nothing else is lost
      console.warn("chart " + figure.getAttribute("data-figure") + " stays static: " + error);
    });
    return figure.fpDrawing;
  }

  function whenIdle(task) {
    if (window.requestIdleCallback) window.requestIdleCallback(task, {timeout: 2000});
    else window.setTimeout(task, 50);
  }

  function start() {
    var figures = Array.prototype.slice.call(document.querySelectorAll(".fp-figure"));
    total = figures.length;
    if (!total) return;
    var queue = figures.slice();
    function next() {  // the rest, one at a time, when the browser has nothing better to do
      while (queue.length && queue[0].fpDrawing) queue.shift();
      if (queue.length) draw(queue.shift()).then(function () { whenIdle(next); });
    }
    if ("IntersectionObserver" in window) {
      var near = new IntersectionObserver(function (entries) {
        entries.forEach(function (entry) {
          if (entry.isIntersecting) {
            near.unobserve(entry.target);
            draw(entry.target);
          }
        });
      }, {rootMargin: "600px 0px"});
      figures.forEach(function (f) { near.observe(f); });
    }
    whenIdle(next);
    // A screen that crosses a breakpoint (a phone turned sideways) gets the other layout.
    Object.keys(media).forEach(function (name) {
      var query = window.matchMedia(media[name]);
      var redraw = function () {
        figures.forEach(function (f) {
          if (f.fpView && f.fpVariant !== chosen()) {
            f.fpDrawing = null;
            draw(f);
          }
        });
      };
      if (query.addEventListener) query.addEventListener("change", redraw);
    });
  }

  if (document.readyState === "complete") start();
  else window.addEventListener("load", start);
})();
