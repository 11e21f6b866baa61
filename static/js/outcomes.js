// Radar charts of a patient's outcome measurements: the first measurement against the latest.
document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("outcome-data");
  if (!source || typeof Chart === "undefined") return;
  for (const chart of JSON.parse(source.textContent)) {
    const canvas = document.querySelector(`canvas[data-outcome="${chart.key}"]`);
    if (!canvas) continue;
    new Chart(canvas, {
      type: "radar",
      data: {
        labels: chart.labels,
        datasets: [
          { label: chart.first_label, data: chart.first, borderColor: "#6c757d", borderDash: [6, 4] },
          { label: chart.latest_label, data: chart.latest, borderColor: "#0b5394" },
        ],
      },
      options: { animation: false, scales: { r: { min: chart.min, max: chart.max, ticks: { stepSize: 1 } } } },
    });
  }
});
