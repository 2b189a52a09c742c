// Live progress of training jobs on the model pages (was inline; moved out for the CSP).
// The bar (<progress>: role progressbar, its value read as aria-valuenow) follows the job in
// place: no reload and no navigation when it ends, so focus and the reader's place stay where
// they are. The job's live region announces each new stage and the end (not every tick); when
// the job has produced a version, the link to it appears.
(function () {
  document.querySelectorAll(".tj-job[data-finished='0']").forEach(function (box) {
    var id = box.dataset.jobId;
    var said = "";
    function field(name) { return box.querySelector("[data-field='" + name + "']"); }
    function announce(text) {
      var live = field("announce");
      if (live && text !== said) { live.textContent = text; said = text; }
    }
    function tick() {
      fetch("/api/v1/training-jobs/" + id + "/", {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (job) {
          if (!job) { setTimeout(tick, 5000); return; }
          ["status", "stage", "progress", "error", "activation_note"].forEach(function (f) {
            var el = field(f);
            if (el) { el.textContent = job[f]; if (f === "error" || f === "activation_note") { el.hidden = !job[f]; } }
          });
          var bar = box.querySelector("progress");
          if (bar) { bar.value = job.progress; bar.textContent = job.progress + "%"; }
          var version = field("model_version");
          if (version && job.model_version_id) {
            version.querySelector("a").href = "/models/" + job.model_version_id + "/";
            version.hidden = false;
          }
          if (job.status === "succeeded" || job.status === "failed") {
            box.dataset.finished = "1";
            announce("Training job #" + id + " " + job.status + (job.status === "failed" ? ": " + job.error : ", " + job.progress + "%."));
            return;
          }
          announce("Training job #" + id + ": " + job.stage + ", " + job.progress + "%.");
          setTimeout(tick, 1000);
        })
        .catch(function () { setTimeout(tick, 5000); });
    }
    setTimeout(tick, 500);
  });
})();
