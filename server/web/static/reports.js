// Draws a report's charts with Chart.js from the data the page carries in
// <script type="application/json" id="report-charts"> (the CSP allows no inline script).
document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("report-charts");
  if (!source || typeof Chart === "undefined") return;
  const { data, labels, locale, print } = JSON.parse(source.textContent);
  const number = new Intl.NumberFormat(locale);
  const common = {
    responsive: true,
    maintainAspectRatio: false,
    animation: print ? false : undefined, // a printed page is drawn at once
    scales: { y: { beginAtZero: true, ticks: { callback: (v) => number.format(v) } } },
    plugins: {
      tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${number.format(c.parsed.y)}` } },
    },
  };
  const draw = (id, config) => {
    const canvas = document.getElementById(id);
    if (!canvas) return;
    canvas.dataset.drawn = "true";
    new Chart(canvas, config);
  };
  draw("chart-children", {
    type: "bar",
    data: {
      labels: data.children.labels,
      datasets: [
        { label: labels.helped, data: data.children.helped, backgroundColor: "#2563eb" },
        { label: labels.escaped, data: data.children.escaped, backgroundColor: "#16a34a" },
      ],
    },
    // Households are counted whole: no 0.5 on the axis.
    options: { ...common, scales: { y: { ...common.scales.y, ticks: { ...common.scales.y.ticks, precision: 0 } } } },
  });
  draw("chart-kinds", {
    type: "bar",
    data: {
      labels: data.support_by_kind.labels,
      datasets: [
        { label: labels.support, data: data.support_by_kind.values, backgroundColor: "#d97706" },
      ],
    },
    options: common,
  });
});
