# Reference values for ik.cumulative_incidence, ik.gray_test and ik.finegray
# (tests/python/test_competing_risks.py).
# Run from the repository root: Rscript tests/reference/r/survival/make_competing_risks_reference.R
# (R packages cmprsk and survival, Debian r-cran-cmprsk / r-cran-survival). Writes mgus2_cr.csv (R survival's
# mgus2 data, monoclonal gammopathy follow-up in months: time = time to progression (PCM) or to death or
# censoring, event = 0 censored, 1 progression, 2 death before progression; sex, age, hgb (haemoglobin; rows
# with missing hgb dropped), agegroup (<60, 60-69, 70-79, 80+), period (diagnosis year < 1980 or not))
# and competing_risks_reference.json next to this file.
suppressMessages({library(survival); library(cmprsk)})
out_dir <- file.path("tests", "reference", "r", "survival")
if (!dir.exists(out_dir)) stop("run from the repository root")
source(file.path("tests", "reference", "r", "json_writer.R"))
m <- mgus2[!is.na(mgus2$hgb), ]
d <- data.frame(time = ifelse(m$pstat == 0, m$futime, m$ptime),
                event = ifelse(m$pstat == 0, 2 * m$death, 1),
                sex = as.character(m$sex), age = m$age, hgb = m$hgb,
                agegroup = as.character(cut(m$age, c(0, 59.5, 69.5, 79.5, 200), labels = c("a<60", "b60-69", "c70-79", "d80+"))),
                period = ifelse(m$dxyr < 1980, "early", "late"))
write.csv(d, file.path(out_dir, "mgus2_cr.csv"), row.names = FALSE)
cases <- list()
curves <- function(fit) {
  keep <- names(fit)[names(fit) != "Tests"]
  lapply(setNames(keep, keep), function(k) list(time = fit[[k]]$time, est = fit[[k]]$est, var = fit[[k]]$var))
}
tests <- function(fit) list(stat = unname(fit$Tests[, "stat"]), pv = unname(fit$Tests[, "pv"]), df = unname(fit$Tests[, "df"]),
                            cause = rownames(fit$Tests))
f1 <- cuminc(d$time, d$event)
cases[["cuminc_all"]] <- list(curves = curves(f1), call = "cuminc(time, event)")
f2 <- cuminc(d$time, d$event, d$sex)
cases[["cuminc_sex"]] <- list(curves = curves(f2), tests = tests(f2), call = "cuminc(time, event, sex)")
f3 <- cuminc(d$time, d$event, d$agegroup, d$period)
cases[["cuminc_age_strata"]] <- list(curves = curves(f3), tests = tests(f3), call = "cuminc(time, event, agegroup, strata = period)")
f4 <- cuminc(d$time, d$event, d$agegroup, rho = 1)
cases[["cuminc_age_rho1"]] <- list(tests = tests(f4), call = "cuminc(time, event, agegroup, rho = 1)")
# R survival's multi-state Aalen-Johansen: same estimates, infinitesimal-jackknife std.err
sf <- survfit(Surv(time, factor(event)) ~ sex, data = d)
cases[["survfit_sex"]] <- list(strata = rep(seq_along(sf$strata), sf$strata), time = sf$time, pstate = unname(sf$pstate[, 2:3]),
                               std_err = unname(sf$std.err[, 2:3]), states = sf$states[2:3],
                               call = "survfit(Surv(time, factor(event)) ~ sex); pstate and std.err columns of causes 1, 2")
# Fine-Gray subdistribution hazards for progression (cause 1)
X <- cbind(age = d$age, male = as.numeric(d$sex == "M"), hgb = d$hgb)
cr <- crr(d$time, d$event, X, failcode = 1, cencode = 0)
cases[["crr_cause1"]] <- list(coef = unname(cr$coef), se = unname(sqrt(diag(cr$var))), var = unname(cr$var), loglik = cr$loglik,
                              terms = colnames(X), call = "crr(time, event, cbind(age, male, hgb), failcode = 1)")
cr2 <- crr(d$time, d$event, X, failcode = 2, cencode = 0)
cases[["crr_cause2"]] <- list(coef = unname(cr2$coef), se = unname(sqrt(diag(cr2$var))), terms = colnames(X),
                              call = "crr(time, event, cbind(age, male, hgb), failcode = 2)")
# Fine-Gray with the censoring distribution estimated by group (cengroup): period (2 groups), agegroup (4)
cr3 <- crr(d$time, d$event, X, failcode = 1, cencode = 0, cengroup = d$period)
cases[["crr_cause1_cengroup_period"]] <- list(coef = unname(cr3$coef), se = unname(sqrt(diag(cr3$var))), var = unname(cr3$var),
                                              loglik = cr3$loglik, terms = colnames(X), cengroup = "period",
                                              call = "crr(time, event, cbind(age, male, hgb), failcode = 1, cengroup = period)")
cr4 <- crr(d$time, d$event, X, failcode = 2, cencode = 0, cengroup = d$agegroup)
cases[["crr_cause2_cengroup_agegroup"]] <- list(coef = unname(cr4$coef), se = unname(sqrt(diag(cr4$var))), var = unname(cr4$var),
                                                loglik = cr4$loglik, terms = colnames(X), cengroup = "agegroup",
                                                call = "crr(time, event, cbind(age, male, hgb), failcode = 2, cengroup = agegroup)")
cases[["versions"]] <- list(R = R.version.string, cmprsk = as.character(packageVersion("cmprsk")),
                            survival = as.character(packageVersion("survival")))
writeLines(to_json(cases), file.path(out_dir, "competing_risks_reference.json"))
