// Live progress of training jobs on the model pages (was inline; moved out for the CSP).
(function () {
  document.querySelectorAll(".tj-job[data-finished='0']").forEach(function (box) {
    var id = box.dataset.jobId;
    function tick() {
      fetch("/api/v1/training-jobs/" + id + "/", {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (job) {
          if (!job) { return; }
          ["status", "stage", "progress", "error", "activation_note"].forEach(function (f) {
            var el = box.querySelector("[data-field='" + f + "']");
            if (el) { el.textContent = job[f]; if (f === "error" || f === "activation_note") { el.hidden = !job[f]; } }
          });
          var bar = box.querySelector("progress");
          if (bar) { bar.value = job.progress; }
          if (job.status === "succeeded" || job.status === "failed") {
            if (job.model_version_id && box.closest("[data-redirect]")) { window.location = "/models/" + job.model_version_id + "/"; }
            else { window.location.reload(); }
            return;
          }
          setTimeout(tick, 2000);
        })
        .catch(function () { setTimeout(tick, 5000); });
    }
    setTimeout(tick, 1000);
  });
})();
