// Run charts: the series, its median, cycle boundaries and the points that trigger a run-chart rule.
document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") return;
  for (const chart of JSON.parse(source.textContent)) {
    const canvas = document.querySelector(`canvas[data-chart="${chart.key}"]`);
    if (!canvas) continue;
    const flagged = new Set([...chart.shift_points, ...chart.trend_points, ...chart.astronomical]);
    const boundaries = new Set(chart.boundaries);
    new Chart(canvas, {
      type: "line",
      data: {
        labels: chart.labels.map((label) => (boundaries.has(label) ? `▶ ${label}` : label)),
        datasets: [
          {
            label: chart.title,
            data: chart.values,
            borderColor: "#0b5394",
            pointBackgroundColor: chart.values.map((_, i) => (flagged.has(i) ? "#b02a37" : "#0b5394")),
            pointRadius: chart.values.map((_, i) => (flagged.has(i) ? 5 : 3)),
            spanGaps: false, // a suppressed month (<5 referrals) stays a visible gap
          },
          {
            label: chart.baseline_median ? "baseline median" : "median",
            data: chart.values.map(() => chart.median),
            borderColor: "#6c757d",
            borderDash: [6, 4],
            pointRadius: 0,
          },
        ],
      },
      options: { animation: false, plugins: { legend: { display: false } } },
    });
  }
});

// The collaboration questionnaire: mean per dimension, one bar per round (baseline, follow-up, …).
document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("rounds-data");
  const canvas = document.getElementById("rounds-chart");
  if (!source || !canvas || typeof Chart === "undefined") return;
  const rounds = JSON.parse(source.textContent);
  if (!rounds.length) return;
  const colours = ["#6c757d", "#0b5394", "#198754", "#b02a37"];
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: rounds[0].codes,
      datasets: rounds.map((r, i) => ({ label: r.label, data: r.means, backgroundColor: colours[i % colours.length] })),
    },
    options: { animation: false, indexAxis: "y", scales: { x: { min: 1, max: 5 } } },
  });
});
