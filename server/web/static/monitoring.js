// Draws monitoring's trend by month with Chart.js from the data the page carries in
// <script type="application/json" id="monitoring-trend"> (the CSP allows no inline script).
document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("monitoring-trend");
  const canvas = document.getElementById("chart-trend");
  if (!source || !canvas || typeof Chart === "undefined") return;
  const { labels, visits, flagged, names, locale } = JSON.parse(source.textContent);
  const number = new Intl.NumberFormat(locale);
  canvas.dataset.drawn = "true";
  new Chart(canvas, {
    type: "bar",
    data: {
      labels,
      datasets: [
        { label: names.visits, data: visits, backgroundColor: "#2563eb" },
        { label: names.flagged, data: flagged, backgroundColor: "#dc2626" },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      scales: { y: { beginAtZero: true, ticks: { precision: 0, callback: (v) => number.format(v) } } },
    },
  });
});
