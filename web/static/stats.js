// The statistics page's charts: draws the report the page carries as JSON (#stats-data)
// with Apache ECharts. Every figure comes from the server; this only lays them out.
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  function chart(id, option) {
    var el = document.getElementById(id);
    if (!el) return null;
    var instance = echarts.init(el, null, { renderer: "canvas" });
    instance.setOption(Object.assign({ animation: false }, option));
    window.addEventListener("resize", function () { instance.resize(); });
    return instance;
  }

  function totals(report, dimension) {
    return report.totals.filter(function (r) { return r.dimension === dimension; })
      .sort(function (a, b) { return b.count - a.count; });
  }

  function bars(rows, horizontal) {
    var names = rows.map(function (r) { return r.label; });
    var values = rows.map(function (r) { return r.count; });
    var category = { type: "category", data: names, axisLabel: { interval: 0, width: 110, overflow: "truncate" } };
    var value = { type: "value", minInterval: 1 };
    return {
      tooltip: { trigger: "axis" },
      grid: { left: horizontal ? 120 : 40, right: 20, top: 10, bottom: horizontal ? 30 : 60 },
      xAxis: horizontal ? value : Object.assign({}, category, { axisLabel: { rotate: 30 } }),
      yAxis: horizontal ? Object.assign({}, category, { inverse: true }) : value,
      series: [{ type: "bar", data: values, itemStyle: { color: "#1d3f72" } }]
    };
  }

  function trend(report) {
    var rows = report.filings.filter(function (r) { return r.dimension === "kind"; });
    var periods = Array.from(new Set(rows.map(function (r) { return r.period; }))).sort();
    var kinds = Array.from(new Set(rows.map(function (r) { return r.label; })));
    return {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 40, right: 20, top: 30, bottom: 30 },
      xAxis: { type: "category", data: periods },
      yAxis: { type: "value", minInterval: 1 },
      series: kinds.map(function (kind) {
        return {
          name: kind, type: "line", stack: "all", areaStyle: {}, smooth: false,
          data: periods.map(function (p) {
            var hit = rows.find(function (r) { return r.label === kind && r.period === p; });
            return hit ? hit.count : 0;
          })
        };
      })
    };
  }

  function deadlines(report, steps) {
    var rows = report.deadlines;
    var names = rows.map(function (r) { return r.department_label + "·" + (steps[r.step] || r.step); });
    function series(name, key, color) {
      return { name: name, type: "bar", stack: "all", itemStyle: { color: color },
        data: rows.map(function (r) { return r[key]; }) };
    }
    return {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 170, right: 20, top: 30, bottom: 30 },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", data: names, inverse: true, axisLabel: { width: 160, overflow: "truncate" } },
      series: [
        series("按期办理", "met", "#2f7d32"),
        series("超期", "breached", "#a4161a"),
        series("计时中", "running", "#9aa5b1")
      ]
    };
  }

  function timings(report) {
    var rows = report.timings.filter(function (r) { return r.department !== null; });
    return {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 40, right: 20, top: 30, bottom: 60 },
      xAxis: { type: "category", data: rows.map(function (r) { return r.department_label; }), axisLabel: { rotate: 30 } },
      yAxis: { type: "value", name: "天" },
      series: [
        { name: "平均受理用时", type: "bar", data: rows.map(function (r) { return r.average_days_to_accept; }) },
        { name: "平均办结用时", type: "bar", data: rows.map(function (r) { return r.average_days_to_close; }) }
      ]
    };
  }

  function satisfaction(report) {
    var rows = report.satisfaction;
    return {
      tooltip: { trigger: "axis" },
      grid: { left: 40, right: 20, top: 10, bottom: 60 },
      xAxis: { type: "category", data: rows.map(function (r) { return r.department_label; }), axisLabel: { rotate: 30 } },
      yAxis: { type: "value", min: 0, max: 100, name: "指数" },
      series: [{ type: "bar", data: rows.map(function (r) { return r.index; }), itemStyle: { color: "#2f7d32" } }]
    };
  }

  function drawMap(id, name, url, rows) {
    var el = document.getElementById(id);
    if (!el) return;
    fetch(url, { credentials: "same-origin" }).then(function (answer) {
      if (!answer.ok) throw new Error("map " + answer.status);
      return answer.json();
    }).then(function (geo) {
      echarts.registerMap(name, geo);
      var names = {};
      geo.features.forEach(function (f) { names[f.properties.adcode] = f.properties.name; });
      var counts = {};
      rows.forEach(function (r) {
        if (!r.key) return;  // filings that name no place
        var code = r.key.length === 4 ? r.key + "00" : r.key;
        counts[code] = (counts[code] || 0) + r.count;
      });
      var data = geo.features.map(function (f) {
        var code = f.properties.adcode;
        return { name: code, value: counts[code] || 0 };
      });
      var most = Math.max.apply(null, data.map(function (d) { return d.value; }).concat([1]));
      chart(id, {
        tooltip: {
          trigger: "item",
          formatter: function (p) { return (names[p.name] || p.name) + "：" + (p.value || 0) + " 件"; }
        },
        visualMap: { min: 0, max: most, left: 10, bottom: 10, text: ["多", "少"], calculable: true,
          inRange: { color: ["#eef3fb", "#7aa3d8", "#1d3f72"] } },
        series: [{
          type: "map", map: name, nameProperty: "adcode", roam: true, data: data,
          label: { show: false }, emphasis: { label: { show: true, formatter: function (p) { return names[p.name] || p.name; } } }
        }]
      });
      el.dataset.drawn = String(data.length);
    }).catch(function (error) {
      el.textContent = "地图数据无法载入。";
      if (window.console) console.error(error);
    });
  }

  ready(function () {
    var holder = document.getElementById("stats-data");
    if (!holder || typeof echarts === "undefined") return;
    var data = JSON.parse(holder.textContent);
    var report = data.report;
    chart("chart-trend", trend(report));
    chart("chart-channel", {
      tooltip: { trigger: "item" },
      series: [{ type: "pie", radius: ["35%", "65%"], data: totals(report, "channel").map(function (r) {
        return { name: r.label, value: r.count };
      }) }]
    });
    chart("chart-department", bars(totals(report, "department"), true));
    chart("chart-sector", bars(totals(report, "sector").slice(0, 12), true));
    chart("chart-deadlines", deadlines(report, data.steps));
    chart("chart-timings", timings(report));
    chart("chart-satisfaction", satisfaction(report));
    if (data.map) {
      drawMap("chart-map", data.map.code + "-counties", data.map.counties, totals(report, "county"));
      drawMap("chart-cities", data.map.code + "-cities", data.map.cities, totals(report, "city"));
    }
  });
})();
