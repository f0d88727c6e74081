// pathzero report: draws the data embedded in index.html (#report-data) with Plotly. No network access:
// every file it needs sits beside it. document.body.dataset.ready is "1" once the page is drawn.
(function () {
  "use strict";

  var DATA = JSON.parse(document.getElementById("report-data").textContent);
  var main = document.getElementById("main");
  var PLOT_CONFIG = {displaylogo: false, responsive: true};
  var COLOURS = ["#2f6db5", "#d9822b", "#3a9b5c", "#b53a2f", "#7b57b5", "#8c6d4f", "#c25a9c", "#5d6675"];

  // ---------------------------------------------------------------------------------------------
  // small helpers

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; }
      else if (k === "html") { node.innerHTML = attrs[k]; }
      else if (k.slice(0, 2) === "on") { node.addEventListener(k.slice(2), attrs[k]); }
      else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); } });
    return node;
  }

  function fmt(x, digits) {
    if (x === null || x === undefined || (typeof x === "number" && !isFinite(x))) { return "-"; }
    if (typeof x !== "number") { return String(x); }
    var d = digits === undefined ? (Number.isInteger(x) || Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2) : digits;
    return x.toLocaleString("en-US", {minimumFractionDigits: d, maximumFractionDigits: d});
  }

  function interval(v, lo, hi, digits) {
    if (v === null || v === undefined) { return "-"; }
    if (digits === undefined) { digits = Math.abs(v) >= 100 ? 0 : 2; }
    return fmt(v, digits) + (lo === null || lo === undefined ? "" : " [" + fmt(lo, digits) + ", " + fmt(hi, digits) + "]");
  }

  // A game's name with places to wrap after "/" and "+" (MinAtar/Breakout+noise=0.02), so a grid of
  // variants fits its panel instead of scrolling sideways.
  function breakable(name) {
    return String(name).replace(/([\/+])/g, "$1\u200b");
  }

  function table(head, rows, cls) {
    return el("table", cls ? {"class": cls} : {}, [
      el("thead", {}, [el("tr", {}, head.map(function (h) { return el("th", {text: h}); }))]),
      el("tbody", {}, rows.map(function (r) {
        return el("tr", {}, r.map(function (c) {
          return c instanceof Node ? el("td", {}, [c]) : el("td", {"class": typeof c === "number" ? "num" : "", text: typeof c === "number" ? fmt(c) : String(c)});
        }));
      }))
    ]);
  }

  function movingMean(values, window) {
    var out = [], sum = 0;
    for (var i = 0; i < values.length; i++) {
      sum += values[i];
      if (i >= window) { sum -= values[i - window]; }
      out.push(sum / Math.min(i + 1, window));
    }
    return out;
  }

  function panel(title, children) {
    return el("div", {"class": "panel"}, [title ? el("h3", {text: title}) : null].concat(children));
  }

  function chart(id) { return el("div", {"class": "chart", id: id}); }

  function video(v, caption) {
    var fig = el("figure", {"class": "video"});
    if (v && v.src) {
      fig.appendChild(el("video", {src: v.src, controls: "", muted: "", loop: "", preload: "auto", playsinline: ""}));
      var extra = v.score !== undefined ? " (score " + fmt(v.score) + " in " + v.steps + " steps)" : "";
      fig.appendChild(el("figcaption", {text: caption + extra + (v.note ? "; " + v.note : "")}));
    } else {
      fig.appendChild(el("p", {"class": "note missing-video", text: caption + ": " + ((v && v.note) || "no video")}));
    }
    return fig;
  }

  function setCrumbs(links) {
    var nav = document.getElementById("crumbs");
    nav.innerHTML = "";
    links.forEach(function (l) { nav.appendChild(el("a", {href: l[1], text: l[0]})); });
  }

  // ---------------------------------------------------------------------------------------------
  // a run

  function drawRunCurves(run, prefix) {
    var evals = run.evals || [], eps = run.episodes || [];
    ["frames", "hours"].forEach(function (axis) {
      var id = prefix + "-" + axis, traces = [];
      var xe = eps.map(function (e) { return axis === "frames" ? e[0] : (e[2] || 0) / 3600; });
      var ye = eps.map(function (e) { return e[1]; });
      if (eps.length) {
        traces.push({x: xe, y: ye, mode: "markers", type: "scatter", name: "training episodes",
                     marker: {size: 3, color: "rgba(93,102,117,0.25)"}});
        traces.push({x: xe, y: movingMean(ye, 20), mode: "lines", type: "scatter", name: "training (mean of 20)",
                     line: {color: "#5d6675", width: 1.5}});
      }
      if (evals.length) {
        var xv = evals.map(function (r) { return axis === "frames" ? r.frames : (r.wall_seconds || 0) / 3600; });
        var lo = evals.map(function (r) { return r.ci_low === null ? r.mean_return : r.ci_low; });
        var hi = evals.map(function (r) { return r.ci_high === null ? r.mean_return : r.ci_high; });
        traces.push({x: xv.concat(xv.slice().reverse()), y: hi.concat(lo.slice().reverse()), fill: "toself",
                     type: "scatter", mode: "lines", line: {width: 0}, fillcolor: "rgba(47,109,181,0.18)",
                     name: "evaluation 95% interval", hoverinfo: "skip"});
        traces.push({x: xv, y: evals.map(function (r) { return r.mean_return; }), type: "scatter", mode: "lines+markers",
                     name: "evaluation mean", line: {color: COLOURS[0], width: 2.5}});
      }
      var layout = {margin: {l: 50, r: 10, t: 20, b: 45},
                    xaxis: {title: {text: axis === "frames" ? "frames" : "hours"}}, yaxis: {title: {text: "return"}},
                    legend: {orientation: "h", y: -0.25}};
      if (!traces.length) {
        layout.annotations = [{text: "no episodes or evaluations yet", showarrow: false, xref: "paper", yref: "paper", x: 0.5, y: 0.5}];
      }
      Plotly.newPlot(id, traces, layout, PLOT_CONFIG);
    });
  }

  function renderRun(run, container) {
    var last = run.evals && run.evals.length ? run.evals[run.evals.length - 1] : null;
    var frames = last ? last.frames : (run.episodes.length ? run.episodes[run.episodes.length - 1][0] : 0);
    container.appendChild(el("h2", {text: run.name}));
    container.appendChild(table(["game", "agent", "frames reached", "last evaluation", "evaluations", "training episodes shown"], [[
      run.game || "-", run.agent, frames, last ? interval(last.mean_return, last.ci_low, last.ci_high) : "-",
      (run.evals || []).length, (run.episodes || []).length]], "summary"));
    var prefix = "run-" + Math.random().toString(36).slice(2, 8);
    container.appendChild(el("div", {"class": "row"}, [panel("Learning curve, against frames", [chart(prefix + "-frames")]),
                                                       panel("Learning curve, against hours", [chart(prefix + "-hours")])]));
    var side = [video(run.video, "replay")];
    if (run.games && run.games.length) {
      side.push(el("h3", {text: "Evaluation games"}));
      side.push(table(["iteration", "opponent", "wins", "draws", "losses"], run.games.map(function (g) {
        return [g.iteration === null ? "-" : g.iteration, g.opponent || "-", g.wins, g.draws, g.losses];
      })));
    }
    container.appendChild(el("div", {"class": "row"}, [
      panel("Replay", side),
      panel("Resume and files", [
        el("p", {}, ["Resume: ", el("code", {text: run.resume})]),
        el("p", {text: "Checkpoints: " + ((run.checkpoints || []).join(", ") || "none")}),
        el("p", {}, ["Folder: ", el("code", {text: run.dir})]),
        el("details", {}, [el("summary", {text: "config.json"}), el("pre", {text: JSON.stringify(run.config, null, 1)})])
      ])
    ]));
    drawRunCurves(run, prefix);
  }

  // ---------------------------------------------------------------------------------------------
  // a folder of runs

  function renderRuns(runs) {
    var hash = location.hash.match(/^#run=(\d+)$/);
    if (hash && runs[+hash[1]]) {
      setCrumbs([["all runs", "#"]]);
      renderRun(runs[+hash[1]], main);
      return;
    }
    setCrumbs([]);
    main.appendChild(el("h2", {text: runs.length + " runs"}));
    main.appendChild(table(["run", "game", "agent", "evaluations", "last evaluation"], runs.map(function (r, i) {
      var last = r.evals && r.evals.length ? r.evals[r.evals.length - 1] : null;
      return [el("a", {href: "#run=" + i, "class": "run-link", text: r.name}), r.game || "-", r.agent, (r.evals || []).length,
              last ? interval(last.mean_return, last.ci_low, last.ci_high) : "-"];
    })));
  }

  // ---------------------------------------------------------------------------------------------
  // a matrix

  function renderMatrix(m) {
    var state = {method: m.transfers[0], control: m.controls[0], pair: null};
    var games = m.games;
    main.appendChild(el("p", {"class": "note", text: m.games.length + " games, " + m.frames.toLocaleString("en-US") + " frames per run, " +
      m.seeds + " seed(s); " + m.finished_runs + " of " + m.expected_runs + " runs finished. Score = (AUC method - AUC random) / " +
      "(AUC control - AUC random); 95% Fieller interval over seeds; * the interval excludes 1."}));
    var methodSelect = el("select", {id: "method"}, m.transfers.map(function (x) { return el("option", {value: x, text: x}); }));
    var controlSelect = el("select", {id: "control"}, m.controls.map(function (x) { return el("option", {value: x, text: x}); }));
    main.appendChild(el("p", {}, [el("label", {}, ["method ", methodSelect]), el("label", {}, ["against ", controlSelect])]));
    var heat = chart("heatmap");
    heat.style.height = Math.max(320, 110 * games.length + 140) + "px";
    var gridHolder = el("div", {id: "grid"});
    var detail = el("div", {id: "pair"});
    main.appendChild(el("div", {"class": "row"}, [panel("Transfer scores", [heat]), panel("Every cell", [gridHolder])]));
    main.appendChild(detail);

    function cellOf(source, target) {
      return m.cells.filter(function (c) {
        return c.source === source && c.target === target && c.method === state.method && c.control === state.control;
      })[0] || null;
    }

    function label(c) {
      if (!c) { return "-"; }
      if (c.status === "running") { return "running"; }
      if (c.score === null || c.score === undefined) { return "undefined"; }
      return interval(c.score, c.ci_low, c.ci_high) + (c.excludes_one ? " *" : "");
    }

    function drawHeatmap() {
      var z = [], text = [];
      games.forEach(function (source) {
        var zr = [], tr = [];
        games.forEach(function (target) {
          var c = cellOf(source, target);
          zr.push(c && c.score !== null && c.score !== undefined ? c.score : null);
          tr.push(c ? label(c).replace(" [", "<br>[") : "");
        });
        z.push(zr); text.push(tr);
      });
      var trace = {type: "heatmap", x: games, y: games, z: z, text: text, texttemplate: "%{text}", hoverongaps: false,
                   colorscale: [[0, "#b53a2f"], [0.5, "#f7f7f7"], [1, "#2f6db5"]], zmid: 1, colorbar: {title: {text: "score"}},
                   hovertemplate: "%{y} -> %{x}<br>%{text}<extra></extra>"};
      var layout = {margin: {l: 150, r: 20, t: 30, b: 110}, xaxis: {title: {text: "target"}, tickangle: -25, automargin: true},
                    yaxis: {title: {text: "source"}, autorange: "reversed", automargin: true},
                    title: {text: state.method + " vs " + state.control, font: {size: 13}}};
      Plotly.react("heatmap", [trace], layout, PLOT_CONFIG);
    }

    function drawGrid() {
      gridHolder.innerHTML = "";
      var rows = games.map(function (source) {
        return el("tr", {}, [el("th", {text: breakable(source)})].concat(games.map(function (target) {
          var c = cellOf(source, target);
          if (!c) {
            var absent = (m.no_stem_to_copy || {})[state.method] || [];
            return absent.indexOf(source + "|" + target) < 0 ? el("td", {"class": "none", text: ""}) :
              el("td", {"class": "none", text: "no stem to copy",
                        title: "the two games' observations differ in shape: " + state.method + " has no run here"});
          }
          var cls = "cell " + (c.status === "running" ? "running" : (c.score === null || c.score === undefined) ? "undefined" : (c.excludes_one ? "star" : ""));
          if (state.pair && state.pair[0] === source && state.pair[1] === target) { cls += " selected"; }
          return el("td", {"class": cls, "data-source": source, "data-target": target, title: c.note || "",
                           text: label(c), onclick: function () { openPair(source, target); }});
        })));
      });
      gridHolder.appendChild(el("table", {"class": "grid"}, [
        el("thead", {}, [el("tr", {}, [el("th", {text: "source \\ target"})].concat(games.map(function (g) { return el("th", {text: breakable(g)}); })))]),
        el("tbody", {}, rows)]));
    }

    function openPair(source, target) {
      state.pair = [source, target];
      drawGrid();
      detail.innerHTML = "";
      var key = source + "|" + target, pair = m.curves[key], c = cellOf(source, target);
      detail.appendChild(el("h2", {id: "pair-title", text: source + " -> " + target + ": " + state.method + " vs " + state.control}));
      if (c && c.note) { detail.appendChild(el("p", {"class": "note", id: "pair-note", text: c.note})); }
      var numbers = c && c.status === "done" ? [
        ["score [95% interval]", label(c)], ["AUC of " + state.method + " (per seed)", fmt(c.auc) + "  (" + (c.auc_seeds || []).map(function (x) { return fmt(x); }).join(", ") + ")"],
        ["AUC of " + state.control + " (per seed)", fmt(c.auc_control) + "  (" + (c.auc_control_seeds || []).map(function (x) { return fmt(x); }).join(", ") + ")"],
        ["random play's mean return", fmt(c.auc_random)],
        ["forgetting of the source's margin", interval(c.forgetting, c.forgetting_ci_low, c.forgetting_ci_high)],
        ["source weights bit-identical", c.source_identical === null || c.source_identical === undefined ? "-" : String(c.source_identical)],
        ["modules on the final pathway", fmt(c.pathway_modules)], ["MFLOPs per observation", c.pathway_flops === null || c.pathway_flops === undefined ? "-" : fmt(c.pathway_flops / 1e6)],
        ["frames/s", fmt(c.fps, 0)], ["seeds", String(c.seeds)], ["stem copied", String(!!c.copy_stem)]
      ] : [["status", "running: the cell is scored when every seed of it and its control has finished"]];
      var curveId = "pair-curves";
      detail.appendChild(el("div", {"class": "row"}, [panel("Training curves (each seed faint, mean bold)", [chart(curveId)]),
                                                      panel("The cell's numbers", [table(["", ""], numbers, "numbers")])]));
      var vids = pair && pair.videos ? pair.videos[state.method] : null;
      detail.appendChild(panel("The agents playing (seed 1)", [el("div", {"class": "videos"}, [
        video(vids ? vids.source : null, "source agent on " + source), video(vids ? vids.target : null, state.method + " on " + target)])]));
      var traces = [], shown = [state.method].concat(m.controls), bins = m.bins;
      var x = []; for (var i = 0; i < bins; i++) { x.push((i + 0.5) / bins * m.frames); }
      shown.forEach(function (method, k) {
        var runs = pair ? (pair.methods[method] || []) : [];
        var colour = COLOURS[k % COLOURS.length], sum = null, n = 0;
        runs.forEach(function (r) {
          if (!r.curve) { return; }
          traces.push({x: x, y: r.curve, type: "scatter", mode: "lines", line: {color: colour, width: 1}, opacity: 0.3,
                       name: method + " seed " + r.seed, showlegend: false});
          sum = sum ? sum.map(function (s, j) { return s + r.curve[j]; }) : r.curve.slice();
          n += 1;
        });
        if (n) {
          traces.push({x: x, y: sum.map(function (s) { return s / n; }), type: "scatter", mode: "lines",
                       line: {color: colour, width: 2.5}, name: method + " (" + n + " seeds)"});
        }
      });
      if (pair && pair.random !== null && pair.random !== undefined) {
        traces.push({x: [0, m.frames], y: [pair.random, pair.random], type: "scatter", mode: "lines",
                     line: {color: "#5d6675", dash: "dash", width: 1.5}, name: "random play"});
      }
      Plotly.newPlot(curveId, traces, {margin: {l: 50, r: 10, t: 20, b: 45}, xaxis: {title: {text: "frames"}},
                                       yaxis: {title: {text: "training return"}}, legend: {orientation: "h", y: -0.25}}, PLOT_CONFIG);
    }

    function redraw() {
      drawHeatmap();
      drawGrid();
      if (state.pair) { openPair(state.pair[0], state.pair[1]); }
    }

    methodSelect.addEventListener("change", function () { state.method = methodSelect.value; redraw(); });
    controlSelect.addEventListener("change", function () { state.control = controlSelect.value; redraw(); });
    redraw();
    document.getElementById("heatmap").on("plotly_click", function (ev) {
      if (ev && ev.points && ev.points.length) { openPair(ev.points[0].y, ev.points[0].x); }
    });
  }

  // ---------------------------------------------------------------------------------------------
  // a continual sequence

  function renderContinual(c) {
    var s = c.settings;
    main.appendChild(el("p", {"class": "note", text: s.games.join(" -> ") + " x " + s.cycles + ", " +
      s.frames.toLocaleString("en-US") + " frames per phase, evaluations every " + s.eval_every.toLocaleString("en-US") + " frames."}));
    if (c.note) { main.appendChild(el("p", {"class": "note", id: "continual-note", text: c.note})); }
    var summary = c.summary ? c.summary.summary : null;
    if (summary) {
      var figures = ["performance", "forgetting", "forward_transfer"];
      main.appendChild(panel("Continual World's figures (mean over seeds, 95% interval)", [table(["method"].concat(figures),
        Object.keys(summary).map(function (method) {
          return [method].concat(figures.map(function (f) { var e = summary[method][f] || {}; return e.value === null ? "undefined" : interval(e.value, e.ci_low, e.ci_high); }));
        }), "metrics")]));
      var select = el("select", {id: "continual-method"}, Object.keys(summary).map(function (x) { return el("option", {value: x, text: x}); }));
      var drill = el("div", {id: "drill"});
      main.appendChild(panel("One method, seed by seed", [el("label", {}, ["method ", select]), drill]));
      var showMethod = function () {
        drill.innerHTML = "";
        var entry = summary[select.value];
        drill.appendChild(table(["figure", "mean [95% interval]", "per seed"], Object.keys(entry).map(function (f) {
          return [f, entry[f].value === null ? "undefined" : interval(entry[f].value, entry[f].ci_low, entry[f].ci_high),
                  (entry[f].seeds || []).map(function (x) { return fmt(x); }).join(", ")];
        })));
      };
      select.addEventListener("change", showMethod);
      showMethod();
    }
    if (c.lines) {
      var holder = el("div", {"class": "row"});
      main.appendChild(el("h2", {text: "Normalised evaluation score over the sequence (grey: the game's own phases)"}));
      main.appendChild(holder);
      s.games.forEach(function (game, g) { holder.appendChild(panel(game, [chart("phase-" + g)])); });
      s.games.forEach(function (game, g) {  // drawn once every panel is placed, so each chart knows its width
        var id = "phase-" + g;
        var traces = [];
        Object.keys(c.lines.lines[game]).forEach(function (method, k) {
          c.lines.lines[game][method].forEach(function (line, i) {
            traces.push({x: line.x, y: line.y, type: "scatter", mode: "lines", line: {color: COLOURS[k % COLOURS.length], width: 1},
                         opacity: 0.35, name: method, legendgroup: method, showlegend: i === 0});
          });
        });
        var shapes = (c.lines.phases[game] || []).map(function (p) {
          return {type: "rect", xref: "x", yref: "paper", x0: p[0], x1: p[1], y0: 0, y1: 1, fillcolor: "#e6e9ee", line: {width: 0}, layer: "below"};
        });
        Plotly.newPlot(id, traces, {shapes: shapes, margin: {l: 50, r: 10, t: 20, b: 45}, xaxis: {title: {text: "frames since the sequence began"}},
                                    yaxis: {title: {text: "0 random, 1 single-task"}}, legend: {orientation: "h", y: -0.3}}, PLOT_CONFIG);
      });
    } else {
      main.appendChild(el("p", {"class": "note", id: "lines-note", text: c.lines_note || "no evaluation lines"}));
      if (c.picture) { main.appendChild(el("img", {src: c.picture, alt: "continual.png", style: "max-width:100%"})); }
    }
  }

  // ---------------------------------------------------------------------------------------------

  function render() {
    main.innerHTML = "";
    try {
      if (DATA.kind === "run") { setCrumbs([]); renderRun(DATA.run, main); }
      else if (DATA.kind === "runs") { renderRuns(DATA.runs); }
      else if (DATA.kind === "matrix") { setCrumbs([]); renderMatrix(DATA.matrix); }
      else if (DATA.kind === "continual") { setCrumbs([]); renderContinual(DATA.continual); }
      else { main.appendChild(el("p", {"class": "error", text: "unknown report kind: " + DATA.kind})); }
    } catch (error) {
      main.appendChild(el("p", {"class": "error", text: "The report could not be drawn: " + error}));
      throw error;
    }
    document.getElementById("footer").textContent = "Made by pathzero report from " + DATA.path + " on " + DATA.generated + ".";
    document.body.dataset.ready = "1";
  }

  window.addEventListener("hashchange", render);
  render();
})();
