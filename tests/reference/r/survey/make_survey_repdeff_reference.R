# Design effects under replicate-weight designs: R survey's svymean / svytotal(..., deff=TRUE) and
# svyby(..., deff=TRUE) on svrepdesign objects, checked by tests/python/test_survey_replicate_deff.py.
#
# Run from the repository root (R >= 4.2 with survey):
#   Rscript tests/reference/r/survey/make_survey_repdeff_reference.R
# Reads the CSVs and uses the designs of make_survey_reference.R (same R calls; the Python arguments
# are those stored under the same design names in survey_reference.json). Writes
# survey_repdeff_reference.json.
#
# Convention (svymean.svyrep.design, svytotal.svyrep.design, svyvar.svyrep.design): deff = V_rep /
# V_srswor with V_srswor = svyvar / n * (N - n) / N for a mean (times N^2 for a total), n = number of
# rows of the design (zero full-sample weights included: n = length(pweights)), N = sum of the
# full-sample weights, svyvar = n/(n-1) * sum(w (x - xbar)^2) / sum(w). Domains (svyby) subset the
# design, so n and N are the domain's.

suppressPackageStartupMessages(library(survey))
options(survey.replicates.mse = FALSE, warn = 1)
out_dir <- file.path("tests", "reference", "r", "survey")
if (!dir.exists(out_dir)) stop("run from the repository root")
source(file.path("tests", "reference", "r", "json_writer.R"))
read_data <- function(file) read.csv(file.path(out_dir, file), stringsAsFactors = TRUE)
apiclus1 <- read_data("apiclus1.csv")
apistrat <- read_data("apistrat.csv")
synth_pairs <- read_data("synth_pairs.csv")

calls <- c(
  apiclus1_jk1 = "svrepdesign(data=apiclus1, repweights=\"^jk1_\", weights=~pw, type=\"JK1\", scale=0.91483927785116681, combined.weights=TRUE, mse=FALSE)",
  apistrat_boot = "svrepdesign(data=apistrat, repweights=\"^boot_\", weights=~pw, type=\"bootstrap\", scale=0.020754064337599448, combined.weights=TRUE, mse=FALSE)",
  synth_pairs_brr = "svrepdesign(data=synth_pairs, repweights=\"^brr_\", weights=~w, type=\"BRR\", combined.weights=TRUE, mse=FALSE)",
  synth_pairs_fay = "svrepdesign(data=synth_pairs, repweights=\"^fay_\", weights=~w, type=\"Fay\", rho=0.3, combined.weights=TRUE, mse=FALSE)")
vars <- list(apiclus1_jk1 = c(mean = "api00", total = "enroll", prop = "stype", by = "stype"),
             apistrat_boot = c(mean = "api00", total = "enroll", prop = "awards", by = "stype"),
             synth_pairs_brr = c(mean = "y", total = "x2", prop = "grp", by = "grp"),
             synth_pairs_fay = c(mean = "y", total = "x2", prop = "grp", by = "grp"))

dg <- function(d) if (is.matrix(d) && nrow(d) == ncol(d)) diag(d) else as.vector(d)
cases <- list()
add <- function(dn, estimator, variable, by, call, terms, est, se, deff, domains = NULL) {
  cases[[length(cases) + 1]] <<- list(id = paste(dn, estimator, variable, if (is.null(by)) "" else by, sep = "/"),
                                      design = dn, estimator = estimator, variable = variable, by = by, r_call = call,
                                      terms = I(terms), estimate = I(unname(est)), se = I(unname(se)),
                                      deff = I(unname(deff)), domains = if (is.null(domains)) NULL else I(as.character(domains)))
}
for (dn in names(calls)) {
  d <- eval(parse(text = calls[[dn]]))
  v <- vars[[dn]]
  for (est in c("mean", "total")) {
    call <- sprintf("svy%s(~%s, %s, deff=TRUE)", est, v[[est]], dn)
    r <- eval(parse(text = sprintf("svy%s(~%s, d, deff=TRUE)", est, v[[est]])))
    add(dn, est, v[[est]], NULL, call, v[[est]], coef(r), SE(r), dg(deff(r)))
  }
  call <- sprintf("svymean(~%s, %s, deff=TRUE)", v[["prop"]], dn)
  r <- eval(parse(text = sprintf("svymean(~%s, d, deff=TRUE)", v[["prop"]])))
  add(dn, "proportion", v[["prop"]], NULL, call, names(coef(r)), coef(r), SE(r), dg(deff(r)))
  call <- sprintf("svyby(~%s, ~%s, %s, svymean, deff=TRUE)", v[["mean"]], v[["by"]], dn)
  b <- eval(parse(text = sprintf("svyby(~%s, ~%s, d, svymean, deff=TRUE)", v[["mean"]], v[["by"]])))
  add(dn, "mean", v[["mean"]], v[["by"]], call, rep(v[["mean"]], nrow(b)), coef(b), SE(b), deff(b), domains = b[[v[["by"]]]])
}
out <- list(generated_by = "Rscript tests/reference/r/survey/make_survey_repdeff_reference.R",
            r_version = R.version.string, survey_version = as.character(packageVersion("survey")),
            convention = "deff = V_rep / (svyvar/n * (N-n)/N) (mean; total: times N^2), n = all rows of the (domain) design, N = sum of full-sample weights",
            cases = cases)
writeLines(to_json(out), file.path(out_dir, "survey_repdeff_reference.json"))
cat("wrote", length(cases), "cases\n")
