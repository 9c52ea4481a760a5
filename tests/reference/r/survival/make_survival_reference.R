# Reference values for ik.kaplan_meier and ik.logrank (tests/python/test_survival.py).
# Run from the repository root: Rscript tests/reference/r/survival/make_survival_reference.R
# (R's recommended package survival). Writes lung.csv (R survival's NCCTG lung cancer data: time in days,
# event = status - 1, sex, ph.ecog; rows with missing ph.ecog dropped, plus a seeded integer case weight
# and a seeded entry time) and survival_reference.json next to this file.
suppressMessages(library(survival))
out_dir <- file.path("tests", "reference", "r", "survival")
if (!dir.exists(out_dir)) stop("run from the repository root")
source(file.path("tests", "reference", "r", "json_writer.R"))
d <- lung[!is.na(lung$ph.ecog), c("time", "status", "sex", "ph.ecog", "age")]
d$event <- d$status - 1
set.seed(20261201)
d$w <- sample(1:3, nrow(d), replace = TRUE)
d$entry <- round(runif(nrow(d), 0, 0.5) * d$time, 1)
d$entry[d$entry >= d$time] <- 0
d$cl <- sample(1:20, nrow(d), replace = TRUE)
names(d)[names(d) == "ph.ecog"] <- "ecog"
write.csv(d[, c("time", "event", "sex", "ecog", "age", "w", "entry", "cl")], file.path(out_dir, "lung.csv"), row.names = FALSE)
cases <- list()
curve <- function(fit, call) {
  s <- if (is.null(fit$strata)) rep(1, length(fit$time)) else rep(seq_along(fit$strata), fit$strata)
  list(stratum = s, time = fit$time, n_risk = fit$n.risk, n_event = fit$n.event, n_censor = fit$n.censor, surv = fit$surv,
       std_err = fit$std.err, lower = fit$lower, upper = fit$upper, call = call)
}
for (ct in c("log-log", "log", "plain")) {
  fit <- survfit(Surv(time, event) ~ sex, data = d, conf.type = ct)
  cases[[paste0("km_sex_", ct)]] <- curve(fit, paste0("survfit(Surv(time, event) ~ sex, conf.type = '", ct, "')"))
  q <- quantile(fit, c(0.25, 0.5, 0.75))
  cases[[paste0("quantiles_sex_", ct)]] <- list(probs = c(0.25, 0.5, 0.75), quantile = unname(q$quantile), lower = unname(q$lower),
                                               upper = unname(q$upper), call = "quantile(fit, c(0.25, 0.5, 0.75)) (rows: sex)")
}
fit <- survfit(Surv(time, event) ~ sex, data = d)
tab <- summary(fit, rmean = 365)$table
cases[["rmst_365"]] <- list(rmean = unname(tab[, "rmean"]), se = unname(tab[, "se(rmean)"]), call = "summary(survfit(...~sex), rmean = 365)$table")
fitw <- survfit(Surv(time, event) ~ 1, data = d, weights = w, conf.type = "log-log", robust = FALSE)
cases[["km_weighted"]] <- curve(fitw, "survfit(Surv(time, event) ~ 1, weights = w, robust = FALSE, conf.type = 'log-log')")
fite <- survfit(Surv(entry, time, event) ~ 1, data = d, conf.type = "log-log")
cases[["km_entry"]] <- curve(fite, "survfit(Surv(entry, time, event) ~ 1, conf.type = 'log-log')")
sd_case <- function(f, rho, call) {
  s <- survdiff(f, data = d, rho = rho)
  list(chisq = unname(s$chisq), obs = unname(if (is.matrix(s$obs)) rowSums(s$obs) else s$obs),
       exp = unname(if (is.matrix(s$exp)) rowSums(s$exp) else s$exp), var = unname(c(s$var)), call = call)
}
cases[["logrank_sex"]] <- sd_case(Surv(time, event) ~ sex, 0, "survdiff(Surv(time, event) ~ sex)")
cases[["fh1_sex"]] <- sd_case(Surv(time, event) ~ sex, 1, "survdiff(Surv(time, event) ~ sex, rho = 1)")
cases[["logrank_ecog"]] <- sd_case(Surv(time, event) ~ ecog, 0, "survdiff(Surv(time, event) ~ ecog) (4 groups)")
cases[["logrank_sex_strata_ecog"]] <- sd_case(Surv(time, event) ~ sex + strata(ecog), 0, "survdiff(Surv(time, event) ~ sex + strata(ecog))")
cases[["fh05_sex_strata_ecog"]] <- sd_case(Surv(time, event) ~ sex + strata(ecog), 0.5, "survdiff(Surv(time, event) ~ sex + strata(ecog), rho = 0.5)")
# Cox models (coxph defaults: eps 1e-9, Newton-Raphson from 0): coefficients, model-based and robust
# variances, log-likelihoods at 0 and at the estimate, score test
cox_case <- function(fit, call) {
  list(coef = unname(coef(fit)), var = unname(c(fit$var)), naive_var = if (is.null(fit$naive.var)) NULL else unname(c(fit$naive.var)),
       loglik = unname(fit$loglik), score = unname(fit$score), n_events = fit$nevent, call = call)
}
cases[["cox_efron"]] <- cox_case(coxph(Surv(time, event) ~ age + sex + factor(ecog), data = d), "coxph(Surv(time, event) ~ age + sex + factor(ecog))")
cases[["cox_breslow"]] <- cox_case(coxph(Surv(time, event) ~ age + sex + factor(ecog), data = d, ties = "breslow"), "... ties = 'breslow'")
cases[["cox_strata"]] <- cox_case(coxph(Surv(time, event) ~ age + sex + strata(ecog), data = d), "coxph(Surv(time, event) ~ age + sex + strata(ecog))")
cases[["cox_weights"]] <- cox_case(coxph(Surv(time, event) ~ age + sex, data = d, weights = w, robust = FALSE), "coxph(... ~ age + sex, weights = w, robust = FALSE)")
cases[["cox_entry"]] <- cox_case(coxph(Surv(entry, time, event) ~ age + sex, data = d), "coxph(Surv(entry, time, event) ~ age + sex)")
cases[["cox_cluster"]] <- cox_case(coxph(Surv(time, event) ~ age + sex, data = d, cluster = cl), "coxph(Surv(time, event) ~ age + sex, cluster = cl)")
cases[["cox_cluster_breslow_weights"]] <- cox_case(coxph(Surv(entry, time, event) ~ age + sex, data = d, cluster = cl, weights = w, ties = "breslow"),
                                                   "coxph(Surv(entry, time, event) ~ age + sex, cluster = cl, weights = w, ties = 'breslow')")
cases[["cox_robust_efron_weights"]] <- cox_case(coxph(Surv(time, event) ~ age + sex + factor(ecog), data = d, weights = w, robust = TRUE),
                                                "coxph(Surv(time, event) ~ age + sex + factor(ecog), weights = w, robust = TRUE)")
writeLines(to_json(cases), file.path(out_dir, "survival_reference.json"))
cat("wrote", length(cases), "cases\n")
