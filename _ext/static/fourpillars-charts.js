// Draw every chart on the page with the book's own vega-embed (no network).
// Each figure holds its Vega-Lite spec as JSON; the chart is drawn as SVG so it
// prints sharply and stays readable by assistive technology through aria-label.
(function () {
  "use strict";
  function specOf(figure) {
    return JSON.parse(figure.querySelector("script.fp-spec").textContent);
  }
  function draw(figure, spec) {
    var holder = figure.querySelector(".fp-chart");
    return window.vegaEmbed(holder, spec, {
      renderer: "svg",
      // No vega-embed menu: it would nest interactive controls inside the role="img" chart
      // and offer a third-party editor. Each figure's SVG, PNG and CSV links sit under it,
      // reachable by keyboard.
      actions: false,
    }).then(function () {
      // The chart's container carries its text alternative (aria-label; the data table and
      // CSV sit under it). Vega still gives mark containers unlabelled graphics roles even
      // with config.aria false, so the drawing itself is hidden from assistive technology.
      holder.querySelector("svg").setAttribute("aria-hidden", "true");
      figure.setAttribute("data-drawn", "true");
    });
  }
  function loadFonts(specs) {
    // Vega measures text as it lays a chart out: load the charts' typeface (both weights) first,
    // or labels are measured in a fallback font and drawn in the book's.
    var stacks = {};
    specs.forEach(function (spec) { if (spec.config && spec.config.font) { stacks[spec.config.font] = true; } });
    if (!document.fonts) { return Promise.resolve(); }
    return Promise.all(Object.keys(stacks).reduce(function (loads, font) {
      return loads.concat([document.fonts.load("16px " + font), document.fonts.load("600 16px " + font)]);
    }, [])).catch(function () {});
  }
  function drawAll() {
    var figures = Array.prototype.slice.call(document.querySelectorAll(".fp-figure"));
    var specs = figures.map(specOf);
    return loadFonts(specs).then(function () {
      return Promise.all(figures.map(function (figure, i) { return draw(figure, specs[i]); }));
    }).then(function () {
      document.documentElement.setAttribute("data-charts-drawn", String(figures.length));
      // For the benchmark: milliseconds from navigation start until the last chart was drawn.
      document.documentElement.setAttribute("data-charts-drawn-ms", String(Math.round(performance.now())));
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
