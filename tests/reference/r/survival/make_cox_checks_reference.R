# Reference values for CoxResult.concordance(), ik.concordance and CoxResult.check_ph()
# (tests/python/test_survival_checks.py). Run from the repository root:
#   Rscript tests/reference/r/survival/make_cox_checks_reference.R
# (R survival 3.5). Reads lung.csv (written by make_survival_reference.R) and writes cox_checks_reference.json.
suppressMessages(library(survival))
out_dir <- file.path("tests", "reference", "r", "survival")
if (!dir.exists(out_dir)) stop("run from the repository root")
source(file.path("tests", "reference", "r", "json_writer.R"))
d <- read.csv(file.path(out_dir, "lung.csv"))
d$w <- as.numeric(d$w)  # cox.zph needs double weights
cases <- list()
# coxph's own concordance component (counts, C, std = sqrt of the infinitesimal-jackknife variance) and
# the cvar of the same call coxph makes internally (concordancefit on fit$linear.predictors, timefix = FALSE;
# concordance(fit) recomputes the predictor and can split near-ties differently)
cox_conc <- function(fit, call, strata = NULL, weights = NULL) {
  k <- fit$concordance
  cf <- survival:::concordancefit(fit$y, fit$linear.predictors, strata, weights, reverse = TRUE, timefix = FALSE)
  stopifnot(abs(cf$concordance - k["concordance"]) < 1e-14)
  list(counts = unname(k[c("concordant", "discordant", "tied.x", "tied.y", "tied.xy")]), concordance = unname(k["concordance"]),
       std = unname(k["std"]), cvar = cf$cvar, call = call)
}
cases[["conc_cox_efron"]] <- cox_conc(coxph(Surv(time, event) ~ age + sex + factor(ecog), data = d),
                                      "coxph(Surv(time, event) ~ age + sex + factor(ecog))$concordance")
cases[["conc_cox_strata"]] <- cox_conc(coxph(Surv(time, event) ~ age + sex + strata(ecog), data = d),
                                       "coxph(Surv(time, event) ~ age + sex + strata(ecog))$concordance", strata = d$ecog)
cases[["conc_cox_weights"]] <- cox_conc(coxph(Surv(time, event) ~ age + sex, data = d, weights = w, robust = FALSE),
                                        "coxph(Surv(time, event) ~ age + sex, weights = w, robust = FALSE)$concordance", weights = d$w)
cases[["conc_cox_entry"]] <- cox_conc(coxph(Surv(entry, time, event) ~ age + sex, data = d),
                                      "coxph(Surv(entry, time, event) ~ age + sex)$concordance")
cases[["conc_cox_cluster"]] <- cox_conc(coxph(Surv(time, event) ~ age + sex, data = d, cluster = cl),
                                        "coxph(Surv(time, event) ~ age + sex, cluster = cl)$concordance")
# concordance() of a plain score: age has many ties (tied.x), lung has tied times (tied.y, tied.xy)
plain_conc <- function(k, call) {
  list(counts = unname(k$count), concordance = k$concordance, var = k$var, cvar = k$cvar, call = call)
}
cases[["conc_age"]] <- plain_conc(concordance(Surv(time, event) ~ age, data = d), "concordance(Surv(time, event) ~ age)")
cases[["conc_age_reverse"]] <- plain_conc(concordance(Surv(time, event) ~ age, data = d, reverse = TRUE),
                                          "concordance(Surv(time, event) ~ age, reverse = TRUE)")
cases[["conc_ecog_strata_weights_cluster"]] <- plain_conc(
  concordance(Surv(time, event) ~ ecog + strata(sex), data = d, weights = w, cluster = cl, reverse = TRUE),
  "concordance(Surv(time, event) ~ ecog + strata(sex), weights = w, cluster = cl, reverse = TRUE)")
cases[["conc_age_entry"]] <- plain_conc(concordance(Surv(entry, time, event) ~ age, data = d, reverse = TRUE),
                                        "concordance(Surv(entry, time, event) ~ age, reverse = TRUE)")
# cox.zph (survival 3.5 defaults: transform = "km", terms = TRUE, global = TRUE): the table, the scaled
# Schoenfeld residuals y (events ordered by stratum and time), the transformed times x and var
zph_case <- function(fit, transform, call) {
  z <- cox.zph(fit, transform = transform)
  list(term = rownames(z$table), chisq = unname(z$table[, "chisq"]), df = unname(z$table[, "df"]), p = unname(z$table[, "p"]),
       y = unname(c(z$y)), n_y = nrow(z$y), x = unname(z$x), time = unname(z$time), var = unname(c(z$var)), call = call)
}
f_efron <- coxph(Surv(time, event) ~ age + sex + factor(ecog), data = d)
for (tr in c("km", "rank", "identity"))
  cases[[paste0("zph_efron_", tr)]] <- zph_case(f_efron, tr, paste0("cox.zph(coxph(Surv(time, event) ~ age + sex + factor(ecog)), transform = '", tr, "')"))
cases[["zph_breslow"]] <- zph_case(coxph(Surv(time, event) ~ age + sex + factor(ecog), data = d, ties = "breslow"), "km",
                                   "cox.zph(coxph(Surv(time, event) ~ age + sex + factor(ecog), ties = 'breslow'))")
cases[["zph_strata"]] <- zph_case(coxph(Surv(time, event) ~ age + sex + strata(ecog), data = d), "km",
                                  "cox.zph(coxph(Surv(time, event) ~ age + sex + strata(ecog)))")
cases[["zph_weights"]] <- zph_case(coxph(Surv(time, event) ~ age + sex, data = d, weights = w, robust = FALSE), "km",
                                   "cox.zph(coxph(Surv(time, event) ~ age + sex, weights = w, robust = FALSE))")
cases[["zph_entry"]] <- zph_case(coxph(Surv(entry, time, event) ~ age + sex, data = d), "km",
                                 "cox.zph(coxph(Surv(entry, time, event) ~ age + sex))")
writeLines(to_json(cases), file.path(out_dir, "cox_checks_reference.json"))
cat("wrote", length(cases), "cases\n")
