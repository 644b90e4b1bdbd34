// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // Filters marked data-autosubmit apply as soon as a choice changes.
  document.querySelectorAll("form[data-autosubmit] select").forEach((select) => {
    select.addEventListener("change", () => select.form.submit());
  });
  // Buttons with data-confirm ask before they act (rejecting a submission).
  document.querySelectorAll("button[data-confirm]").forEach((button) => {
    button.addEventListener("click", (event) => {
      if (!window.confirm(button.dataset.confirm)) event.preventDefault();
    });
  });
  // A page showing work in progress (exports being made) reloads itself until it is done.
  const refresh = document.querySelector("[data-refresh-seconds]");
  if (refresh) {
    window.setTimeout(() => window.location.reload(), Number(refresh.dataset.refreshSeconds) * 1000);
  }
  // A return needs a comment: say so before the round trip.
  document.querySelectorAll("button[name=decision][value=return]").forEach((button) => {
    button.addEventListener("click", (event) => {
      const comment = button.form.querySelector("textarea[name=comment]");
      if (comment && !comment.value.trim()) {
        event.preventDefault();
        comment.required = true;
        comment.reportValidity();
        comment.required = false;
      }
    });
  });
});
