# Reference values from R `survey` for impactkit's complex-survey API (ik.SurveyDesign and
# design= in ik.ols / ik.logit / ik.probit / ik.poisson / ik.iv), checked by
# tests/python/test_survey_reference.py. Conventions the values embody: README.md next to this file.
#
# Run from the repository root (R >= 4.2 with survey; jsonlite is not needed):
#   Rscript tests/reference/r/survey/make_survey_reference.R
# Writes into tests/reference/r/survey/:
#   apisrs.csv apistrat.csv apiclus1.csv apiclus2.csv   the `api` data shipped with survey (used
#       columns, dots renamed to underscores) plus replicate-weight columns made here:
#       apiclus1 jk1_1..jk1_15, apistrat boot_1..boot_50
#   synth_strat.csv   synthetic, 6 strata, two of them with a single PSU (lonely-PSU rules);
#       stratum_m merges them into neighbours (4 strata of 2-5 PSUs) for JKn: jkn_1..jkn_14
#   synth_pairs.csv   synthetic, 12 strata x 2 PSUs whose labels (1, 2) repeat across strata
#       (nest=TRUE), two-stage fpc, zero weights, replicate columns brr_1..brr_16, fay_1..fay_16
#   survey_reference.json   designs (R call + the ik.SurveyDesign arguments) and cases
# Replicate columns are the combined weights weights(<as.svrepdesign>, "analysis") rounded to 12
# significant digits; the stored values are computed from the rounded columns (they *are* the
# design), and agree with as.svrepdesign()'s own numbers to ~1e-11 (checked below).
# All numbers are written with enough digits to round-trip exactly (CSV: shortest of %.15g/%.17g
# that reads back identically; JSON: %.17g). Every reference value is computed from the CSV files
# as read back, so R and Python see identical inputs.

suppressPackageStartupMessages(library(survey))

out_dir <- file.path("tests", "reference", "r", "survey")
if (!dir.exists(out_dir)) stop("run from the repository root")

options(survey.lonely.psu = "fail", survey.replicates.mse = FALSE,
        survey.adjust.domain.lonely = FALSE, survey.ultimate.cluster = FALSE,
        survey.drop.replicates = TRUE, warn = 1)

# ------------------------------------------------------------------------------------------------
# Writers (number formatting, CSV, JSON)
# ------------------------------------------------------------------------------------------------
fmt_num <- function(x) {
  s <- sprintf("%.15g", x)
  bad <- !is.na(x)
  bad[bad] <- as.numeric(s[bad]) != x[bad]
  s[bad] <- sprintf("%.17g", x[bad])
  s[is.na(x)] <- "NA"
  s
}

write_data <- function(df, file) {
  out <- df
  for (nm in names(out)) {
    if (is.numeric(out[[nm]])) out[[nm]] <- fmt_num(as.numeric(out[[nm]]))
    else out[[nm]] <- as.character(out[[nm]])
  }
  stopifnot(!any(grepl("[,\"]", unlist(out))))
  write.csv(out, file.path(out_dir, file), row.names = FALSE, quote = FALSE)
}

read_data <- function(file) read.csv(file.path(out_dir, file), stringsAsFactors = TRUE)

source(file.path("tests", "reference", "r", "json_writer.R"))

# ------------------------------------------------------------------------------------------------
# 1. Data: api (shipped with survey) and two synthetic sets
# ------------------------------------------------------------------------------------------------
data(api)
api_cols <- c("snum", "dnum", "stype", "sch.wide", "awards", "both", "api00", "api99", "enroll",
              "ell", "meals", "pw")
prep_api <- function(df, extra) {
  d <- df[, c(api_cols, extra)]
  for (nm in names(d)) if (!is.factor(d[[nm]])) d[[nm]] <- as.vector(d[[nm]])  # drop 1-d array attrs
  names(d) <- gsub(".", "_", names(d), fixed = TRUE)
  d$sch_wide01 <- as.integer(d$sch_wide == "Yes")
  rownames(d) <- NULL
  d
}
srs0 <- prep_api(apisrs, "fpc")
strat0 <- prep_api(apistrat, "fpc")
clus10 <- prep_api(apiclus1, "fpc")
clus20 <- prep_api(apiclus2, c("fpc1", "fpc2"))

# synth_pairs: 12 strata P01..P12, 2 PSUs each labelled 1 and 2 (labels repeat across strata:
# nest=TRUE), 3-7 units per PSU; fpc_psu = PSUs in the stratum population, fpc_unit = units in the
# PSU population; w = fpc_psu/2 * fpc_unit/m (rounded to 6 decimals).
set.seed(20240611)
rows <- list()
for (h in 1:12) {
  Nh <- sample(4:15, 1)
  for (j in 1:2) {
    m <- sample(3:7, 1)
    M <- m + sample(0:20, 1)
    u <- rnorm(1, sd = 0.7)
    rows[[length(rows) + 1]] <- data.frame(stratum = sprintf("P%02d", h), psu_in_stratum = j,
                                           psu = 100L * h + j, unit = seq_len(m), fpc_psu = Nh,
                                           fpc_unit = M, w = round(Nh / 2 * M / m, 6), u = u)
  }
}
pairs0 <- do.call(rbind, rows)
n <- nrow(pairs0)
pairs0$x1 <- round(rnorm(n), 4)
pairs0$x2 <- round(runif(n, 0.5, 2), 4)
pairs0$y <- round(2 + 0.5 * pairs0$x1 - 0.8 * pairs0$x2 + pairs0$u + rnorm(n), 4)
pairs0$ybin <- rbinom(n, 1, plogis(-0.3 + 0.9 * pairs0$x1 - 0.4 * pairs0$x2 + 0.5 * pairs0$u))
pairs0$ycount <- rpois(n, exp(0.2 + 0.3 * pairs0$x1 + 0.4 * pairs0$x2 + 0.3 * pairs0$u))
pairs0$grp <- sample(c("a", "b", "c"), n, replace = TRUE)
# zero weights: one row of P01 and the whole PSU 2 of P03
pairs0$w_zero <- pairs0$w
pairs0$w_zero[1] <- 0
pairs0$w_zero[pairs0$stratum == "P03" & pairs0$psu_in_stratum == 2] <- 0
pairs0$u <- NULL

# synth_strat: 6 strata S01..S06 with 3, 2, 4, 1, 3, 1 PSUs (S04 and S06 lonely), PSU ids 1..14
# unique; fpc_psu = PSUs in the stratum population (S06: 1, a true certainty PSU).
nh <- c(3, 2, 4, 1, 3, 1)
Nh <- c(10, 6, 12, 5, 9, 1)
rows <- list()
psu_id <- 0L
for (h in seq_along(nh)) {
  for (j in seq_len(nh[h])) {
    psu_id <- psu_id + 1L
    m <- sample(2:5, 1)
    u <- rnorm(1, sd = 0.7)
    rows[[length(rows) + 1]] <- data.frame(stratum = sprintf("S%02d", h), psu = psu_id,
                                           fpc_psu = Nh[h],
                                           w = round(Nh[h] / nh[h] * runif(1, 1, 3), 4), u = u,
                                           unit = seq_len(m))
  }
}
strat_syn0 <- do.call(rbind, rows)
n <- nrow(strat_syn0)
strat_syn0$x1 <- round(rnorm(n), 4)
strat_syn0$x2 <- round(runif(n, 0.5, 2), 4)
strat_syn0$y <- round(1 + 0.7 * strat_syn0$x1 + 0.5 * strat_syn0$x2 + strat_syn0$u + rnorm(n), 4)
strat_syn0$ybin <- rbinom(n, 1, plogis(0.2 + 0.8 * strat_syn0$x1 - 0.3 * strat_syn0$x2))
strat_syn0$ycount <- rpois(n, exp(0.1 + 0.3 * strat_syn0$x1 + 0.5 * strat_syn0$x2))
strat_syn0$grp <- sample(c("a", "b", "c"), n, replace = TRUE)
strat_syn0$grp[strat_syn0$stratum == "S06"] <- rep(c("a", "b"), length.out = sum(strat_syn0$stratum == "S06"))
strat_syn0$u <- NULL
# stratum_m merges each lonely stratum into its neighbour (S04 -> S03, S06 -> S05): 3, 2, 5, 4 PSUs
strat_syn0$stratum_m <- c(S01 = "S01", S02 = "S02", S03 = "S03", S04 = "S03", S05 = "S05",
                          S06 = "S05")[strat_syn0$stratum]

# ------------------------------------------------------------------------------------------------
# 2. Replicate weights made by as.svrepdesign (exported as combined weights = multiplier * pw)
# ------------------------------------------------------------------------------------------------
rep_info <- list()
add_rep_columns <- function(df, rep, prefix) {
  W <- signif(as.matrix(weights(rep, "analysis")), 12)  # 12 digits keep the CSV small
  colnames(W) <- paste0(prefix, "_", seq_len(ncol(W)))
  list(data = cbind(df, W), scale = rep$scale, rscales = rep$rscales, n = ncol(W), rep = rep)
}

d_src <- svydesign(id = ~dnum, weights = ~pw, fpc = ~fpc, data = clus10)
r <- add_rep_columns(clus10, as.svrepdesign(d_src, type = "JK1"), "jk1")
clus10 <- r$data
rep_info$jk1 <- r

d_src <- svydesign(id = ~psu, strata = ~stratum_m, weights = ~w, data = strat_syn0)
r <- add_rep_columns(strat_syn0, as.svrepdesign(d_src, type = "JKn"), "jkn")
strat_syn0 <- r$data
rep_info$jkn <- r

d_src <- svydesign(id = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = strat0)
set.seed(20240612)
r <- add_rep_columns(strat0, as.svrepdesign(d_src, type = "bootstrap", replicates = 50), "boot")
strat0 <- r$data
rep_info$boot <- r

d_src <- svydesign(id = ~psu_in_stratum, strata = ~stratum, weights = ~w, nest = TRUE, data = pairs0)
r <- add_rep_columns(pairs0, as.svrepdesign(d_src, type = "BRR"), "brr")
pairs0 <- r$data
rep_info$brr <- r
r <- add_rep_columns(pairs0, as.svrepdesign(d_src, type = "Fay", fay.rho = 0.3), "fay")
pairs0 <- r$data
rep_info$fay <- r

write_data(srs0, "apisrs.csv")
write_data(strat0, "apistrat.csv")
write_data(clus10, "apiclus1.csv")
write_data(clus20, "apiclus2.csv")
write_data(strat_syn0, "synth_strat.csv")
write_data(pairs0, "synth_pairs.csv")

# ------------------------------------------------------------------------------------------------
# 3. Read back; every value below is computed from these
# ------------------------------------------------------------------------------------------------
apisrs <- read_data("apisrs.csv")
apistrat <- read_data("apistrat.csv")
apiclus1 <- read_data("apiclus1.csv")
apiclus2 <- read_data("apiclus2.csv")
synth_strat <- read_data("synth_strat.csv")
synth_pairs <- read_data("synth_pairs.csv")

jk1_scale <- rep_info$jk1$scale
jkn_rscales <- rep_info$jkn$rscales
boot_scale <- rep_info$boot$scale
stopifnot(rep_info$jkn$scale == 1, all(rep_info$jk1$rscales == 1), all(rep_info$boot$rscales == 1))

# ------------------------------------------------------------------------------------------------
# 4. Designs
# ------------------------------------------------------------------------------------------------
designs <- list()
cases <- list()

add_design <- function(name, data_file, r_call, python, description, lonely = "fail",
                       replicate = NULL) {
  options(survey.lonely.psu = lonely)
  d <- eval(parse(text = r_call))
  assign(name, d, envir = globalenv())
  designs[[name]] <<- list(description = description, data = data_file, r_call = r_call,
                           r_options = list(survey.lonely.psu = lonely), python = python,
                           degf = degf(d), replicate = replicate)
  invisible(d)
}

# Evaluates a case's R call. Any warning stops the script (e.g. glm non-convergence), except
# summary.glm's note on zero-weight rows (synth_pairs_zero_weights), which is expected.
ev <- function(dn, call) {
  options(survey.lonely.psu = designs[[dn]]$r_options$survey.lonely.psu)
  withCallingHandlers(eval(parse(text = call)), warning = function(w) {
    if (grepl("zero weight not used for calculating dispersion", conditionMessage(w))) {
      invokeRestart("muffleWarning")
    }
    stop("unexpected warning in ", call, ": ", conditionMessage(w))
  })
}

tq <- function(df) if (is.finite(df)) qt(0.975, df) else qnorm(0.975)

add_case <- function(dn, estimator, spec, call, terms, estimate, se, df, by = NULL, domains = NULL,
                     deff = NULL, conf_low = NULL, conf_high = NULL, extra = list()) {
  if (is.null(conf_low)) {
    conf_low <- estimate - tq(df) * se
    conf_high <- estimate + tq(df) * se
  }
  id <- paste(c(dn, estimator, spec$label, if (!is.null(by)) paste0("by_", by)), collapse = "/")
  spec$label <- NULL
  case <- c(list(id = id, design = dn, estimator = estimator), spec,
            list(by = by, r_call = call, terms = I(terms)),
            if (!is.null(domains)) list(domains = I(as.character(domains))),
            list(estimate = I(unname(as.numeric(estimate))), se = I(unname(as.numeric(se))),
                 df = df, conf_low = I(unname(as.numeric(conf_low))),
                 conf_high = I(unname(as.numeric(conf_high)))),
            if (!is.null(deff)) list(deff = I(unname(as.numeric(deff)))),
            extra)
  stopifnot(length(terms) == length(estimate), length(se) == length(estimate))
  cases[[length(cases) + 1]] <<- case
}

# --- estimators -----------------------------------------------------------------------------------
case_mean <- function(dn, var, deff = TRUE) {
  call <- sprintf("svymean(~%s, %s%s)", var, dn, if (deff) ", deff=TRUE" else "")
  m <- ev(dn, call)
  add_case(dn, "mean", list(variable = var, label = var), call, var, coef(m), SE(m), degf(get(dn)),
           deff = if (deff) deff(m) else NULL)
}
case_total <- function(dn, var, deff = TRUE) {
  call <- sprintf("svytotal(~%s, %s%s)", var, dn, if (deff) ", deff=TRUE" else "")
  m <- ev(dn, call)
  add_case(dn, "total", list(variable = var, label = var), call, var, coef(m), SE(m), degf(get(dn)),
           deff = if (deff) deff(m) else NULL)
}
case_prop <- function(dn, var, deff = TRUE) {
  call <- sprintf("svymean(~factor(%s), %s%s)", var, dn, if (deff) ", deff=TRUE" else "")
  m <- ev(dn, call)
  lv <- levels(factor(get(dn)$variables[[var]]))
  add_case(dn, "proportion", list(variable = var, label = var), call, paste0(var, "=", lv), coef(m),
           SE(m), degf(get(dn)), deff = if (deff) deff(m) else NULL)
}
case_ratio <- function(dn, num, den) {
  call <- sprintf("svyratio(~%s, ~%s, %s)", num, den, dn)
  r <- ev(dn, call)
  add_case(dn, "ratio", list(numerator = num, denominator = den, label = paste0(num, "_", den)),
           call, paste0(num, "/", den), coef(r), sqrt(as.vector(r$var)), degf(get(dn)))
}
case_quantile <- function(dn, var, qs = c(0.25, 0.5)) {
  call <- sprintf("svyquantile(~%s, %s, quantiles=c(%s), ci=TRUE, qrule=\"math\", interval.type=\"mean\", alpha=0.05)",
                  var, dn, paste(qs, collapse = ", "))
  q <- ev(dn, call)[[var]]
  df <- degf(get(dn))
  add_case(dn, "quantile", list(variable = var, quantiles = I(qs), label = var), call,
           sprintf("%s (q=%s)", var, as.character(qs)), q[, "quantile"], q[, "se"], df,
           conf_low = q[, 2], conf_high = q[, 3],
           extra = list(qrule = "math", interval_type = "mean", alpha = 0.05, woodruff_df = df))
}
case_by <- function(dn, estimator, var, by, den = NULL) {
  fun <- c(mean = "svymean", total = "svytotal", ratio = "svyratio")[[estimator]]
  call <- sprintf("svyby(~%s, ~%s, %s, %s%s, keep.var=TRUE)", var, by, dn, fun,
                  if (!is.null(den)) sprintf(", denominator=~%s", den) else "")
  b <- ev(dn, call)
  term <- if (is.null(den)) var else paste0(var, "/", den)
  spec <- if (is.null(den)) list(variable = var, label = var) else
    list(numerator = var, denominator = den, label = paste0(var, "_", den))
  # Same domains as zeroed variables on the full design (svyratio / svytotal of y*1{domain}).
  # Identical to svyby except under lonely.psu="average", where svyby's row-dropping subset
  # counts only the strata present in the domain (stored as se_domain_zeroed for information).
  extra <- list()
  d <- get(dn)
  if (!inherits(d, "svyrep.design")) {
    zeroed <- vapply(as.character(b[[by]]), function(lev) {
      ind <- as.numeric(as.character(d$variables[[by]]) == lev)
      dz <- d
      dz$variables$.ind <- ind
      dz$variables$.yz <- d$variables[[var]] * ind
      if (!is.null(den)) dz$variables$.xz <- d$variables[[den]] * ind
      options(survey.lonely.psu = designs[[dn]]$r_options$survey.lonely.psu)
      switch(estimator,
             mean = sqrt(svyratio(~.yz, ~.ind, dz)$var[1, 1]),
             total = SE(svytotal(~.yz, dz))[[1]],
             ratio = sqrt(svyratio(~.yz, ~.xz, dz)$var[1, 1]))
    }, 0)
    if (designs[[dn]]$r_options$survey.lonely.psu == "average") {
      extra <- list(se_domain_zeroed = I(unname(zeroed)))
    } else {
      stopifnot(isTRUE(all.equal(unname(zeroed), unname(SE(b)), tolerance = 1e-10)))
    }
  }
  add_case(dn, estimator, spec, call, rep(term, nrow(b)), coef(b), SE(b), degf(get(dn)), by = by,
           domains = b[[by]], extra = extra)
}
glm_family <- c(ols = "gaussian()", logit = "quasibinomial()",
                probit = "quasibinomial(link=\"probit\")", poisson = "quasipoisson()")
# Convergence. glm's default stop (relative deviance change < 1e-8) leaves coefficients ~1e-5
# from the optimum, and glm.fit returns working weights (hence the bread (X'WX)^-1 and the
# score) evaluated at the *previous* iterate, so even at epsilon=1e-15 the SEs carry the size of
# the last step (~1e-8 for logit; probit's Fisher scoring converges only linearly). The reference
# is therefore the svyglm call refitted with start=coef(previous fit) until the coefficients stop
# changing, so that coefficients, weights and SEs are those at the optimum to ~1e-15.
glm_ctrl <- "control=glm.control(epsilon=1e-15, maxit=200)"
polish_note <- "; refitted with start=coef(<previous fit>) until the coefficients stop changing"
same_coef <- function(a, b) max(abs(a - b)) <= 8 * .Machine$double.eps * max(abs(b))

case_glm <- function(dn, model, formula) {
  call <- sprintf("svyglm(%s, design=%s, family=%s, %s)", formula, dn, glm_family[[model]], glm_ctrl)
  g0 <- ev(dn, call)
  g <- g0
  for (i in 1:100) {
    b <- coef(g)
    assign(".start", b, envir = globalenv())
    g <- ev(dn, sub(glm_ctrl, paste0("start=.start, ", glm_ctrl), call, fixed = TRUE))
    if (same_coef(coef(g), b)) break
  }
  stopifnot(same_coef(coef(g), b))
  assign(".start", coef(g), envir = globalenv())
  g <- ev(dn, sub(glm_ctrl, paste0("start=.start, ", glm_ctrl), call, fixed = TRUE))
  se <- SE(g)
  d <- get(dn)
  if (inherits(d, "svyrep.design")) {
    # replicate fits as svyglm.svyrep.design (glm.fit, weights w_r / sum(w_r), start = full-sample
    # coefficients), each polished to a fixed point the same way
    fam <- g$family
    XX <- model.matrix(g)
    YY <- g$y
    W <- as.matrix(weights(d, "analysis"))
    if (length(g$na.action)) W <- W[-g$na.action, , drop = FALSE]
    betas <- t(apply(W, 2, function(wi) {
      b <- coef(g)
      for (i in 1:200) {
        bn <- glm.fit(XX, YY, weights = wi / sum(wi), start = b, family = fam,
                      control = glm.control(epsilon = 1e-15, maxit = 200))$coefficients
        done <- same_coef(bn, b)
        b <- bn
        if (done) break
      }
      stopifnot(done)
      b
    }))
    se <- sqrt(diag(svrVar(betas, d$scale, d$rscales, mse = d$mse, coef = coef(g))))
  }
  # the polished values differ from the plain call's only by convergence noise
  stopifnot(isTRUE(all.equal(unname(coef(g)), unname(coef(g0)), tolerance = 1e-5)),
            isTRUE(all.equal(unname(se), unname(SE(g0)), tolerance = 1e-5)))
  tl <- qt(0.975, g$df.residual)
  add_case(dn, model, list(formula = formula, label = gsub(" ", "", formula)),
           paste0(call, polish_note), names(coef(g)), coef(g), se, g$df.residual,
           conf_low = coef(g) - tl * se, conf_high = coef(g) + tl * se,
           extra = list(nobs = length(g$residuals)))
}
# svyivreg needs AER (not installed); this is survey:::svyivreg.survey.design written out:
# AER::ivreg with weights = weights(design, "sampling"); estfun.ivreg = Xhat * resid * w with Xhat
# the first-stage projections of the regressors; influence = (estfun / w) %*% (Xhat'W Xhat)^-1;
# V = vcov(svytotal(influence, design)); df.residual = degf(design) + 1 - p.
svyivreg_by_hand <- function(y, exog, endog, instr, design) {
  dat <- design$variables
  w <- weights(design, "sampling")
  X <- cbind(`(Intercept)` = 1, as.matrix(dat[, c(exog, endog), drop = FALSE]))
  Z <- cbind(`(Intercept)` = 1, as.matrix(dat[, c(exog, instr), drop = FALSE]))
  Y <- dat[[y]]
  Xhat <- Z %*% solve(crossprod(Z, w * Z), crossprod(Z, w * X))
  b <- drop(solve(crossprod(Xhat, w * X), crossprod(Xhat, w * Y)))
  e <- Y - drop(X %*% b)
  A <- solve(crossprod(Xhat, w * Xhat))
  infl <- (Xhat * e) %*% A
  v <- vcov(svytotal(infl, design))
  names(b) <- colnames(X)
  list(coef = b, se = sqrt(diag(v)), df = degf(design) + 1 - length(b))
}
case_iv <- function(dn, y, exog, endog, instr) {
  formula <- sprintf("%s ~ %s | %s ~ %s", y, paste(exog, collapse = " + "), endog, instr)
  call <- sprintf("survey:::svyivreg.survey.design(%s ~ %s + %s | %s + %s, %s) [written out: AER absent]",
                  y, paste(exog, collapse = " + "), endog, paste(exog, collapse = " + "), instr, dn)
  f <- ev(dn, sprintf("svyivreg_by_hand(\"%s\", c(%s), \"%s\", \"%s\", %s)", y,
                      paste0("\"", exog, "\"", collapse = ", "), endog, instr, dn))
  add_case(dn, "iv", list(formula = formula, label = gsub(" ", "", formula)), call, names(f$coef),
           f$coef, f$se, f$df)
}
case_error <- function(dn, estimator, var, must_name, must_not_name = character(0)) {
  call <- sprintf("svymean(~%s, %s)", var, dn)
  msg <- tryCatch({ ev(dn, call); NA_character_ }, error = function(e) conditionMessage(e))
  stopifnot(!is.na(msg))
  cases[[length(cases) + 1]] <<- list(id = paste(dn, estimator, var, "error", sep = "/"), design = dn,
                                      estimator = estimator, variable = var, by = NULL,
                                      r_call = call, error = msg, error_names_any_of = I(must_name),
                                      error_must_not_name = I(must_not_name))
}

# --- Taylor designs on api ------------------------------------------------------------------------
add_design("apisrs_nofpc", "apisrs.csv", "svydesign(id=~1, weights=~pw, data=apisrs)",
           list(weights = "pw"), "simple random sample, no fpc (each row its own PSU)")
add_design("apisrs_fpc", "apisrs.csv", "svydesign(id=~1, weights=~pw, fpc=~fpc, data=apisrs)",
           list(weights = "pw", fpc = "fpc"), "simple random sample with fpc (population size 6194)")
add_design("apistrat_fpc", "apistrat.csv",
           "svydesign(id=~1, strata=~stype, weights=~pw, fpc=~fpc, data=apistrat)",
           list(weights = "pw", strata = "stype", fpc = "fpc"),
           "stratified (stype) element sample with fpc (population size per stratum)")
add_design("apiclus1_fpc", "apiclus1.csv", "svydesign(id=~dnum, weights=~pw, fpc=~fpc, data=apiclus1)",
           list(weights = "pw", psu = "dnum", fpc = "fpc"),
           "one-stage cluster sample of 15 districts (dnum) with fpc 757")
add_design("apiclus1_nofpc", "apiclus1.csv", "svydesign(id=~dnum, weights=~pw, data=apiclus1)",
           list(weights = "pw", psu = "dnum"), "one-stage cluster sample of districts, no fpc")
add_design("apiclus2_fpc", "apiclus2.csv",
           "svydesign(id=~dnum+snum, weights=~pw, fpc=~fpc1+fpc2, data=apiclus2)",
           list(weights = "pw", psu = I(c("dnum", "snum")), fpc = I(c("fpc1", "fpc2"))),
           "two-stage cluster sample (districts, then schools) with fpc at both stages: full multistage variance")
add_design("apiclus2_nofpc", "apiclus2.csv", "svydesign(id=~dnum+snum, weights=~pw, data=apiclus2)",
           list(weights = "pw", psu = I(c("dnum", "snum"))),
           "two-stage cluster sample without fpc: ultimate-cluster (first-stage) variance")
add_design("apistrat_clus", "apistrat.csv",
           "svydesign(id=~dnum, strata=~stype, weights=~pw, nest=TRUE, data=apistrat)",
           list(weights = "pw", strata = "stype", psu = "dnum", nest = TRUE),
           "stratified (stype) cluster (district within stratum) design, nest=TRUE (districts recur across strata), no fpc")

for (dn in c("apisrs_nofpc", "apisrs_fpc", "apistrat_fpc", "apiclus1_fpc", "apiclus1_nofpc",
             "apistrat_clus")) {
  case_mean(dn, "api00")
  case_total(dn, "enroll")
  case_ratio(dn, "api00", "api99")
  case_prop(dn, "sch_wide")
  case_quantile(dn, "api00")
}
for (dn in c("apisrs_fpc", "apiclus1_fpc", "apiclus1_nofpc")) case_prop(dn, "stype")
for (dn in c("apiclus2_fpc", "apiclus2_nofpc")) {
  case_mean(dn, "api00")
  case_total(dn, "api00")
  case_ratio(dn, "api00", "api99")
  case_prop(dn, "sch_wide")
  case_prop(dn, "stype")
  case_quantile(dn, "api00")
}
for (dn in c("apistrat_fpc", "apiclus1_fpc", "apiclus2_fpc", "apistrat_clus")) {
  case_by(dn, "mean", "api00", "stype")
  case_by(dn, "total", if (dn == "apiclus2_fpc") "api00" else "enroll", "stype")
  case_by(dn, "ratio", "api00", "stype", den = "api99")
}
for (dn in c("apistrat_fpc", "apiclus1_fpc", "apiclus1_nofpc", "apiclus2_fpc", "apiclus2_nofpc",
             "apistrat_clus")) {
  case_glm(dn, "ols", "api00 ~ ell + meals")
  case_glm(dn, "logit", "sch_wide01 ~ ell + meals")
  case_glm(dn, "probit", "sch_wide01 ~ ell + meals")
  case_glm(dn, "poisson", "enroll ~ ell + meals")  # apiclus2: 6 rows with NA enroll are dropped
}
for (dn in c("apistrat_fpc", "apiclus1_fpc", "apiclus2_fpc")) case_iv(dn, "api00", "ell", "meals", "api99")

# --- lonely PSUs (synth_strat) ----------------------------------------------------------------
lonely_call <- "svydesign(id=~psu, strata=~stratum, weights=~w, data=synth_strat)"
lonely_call_fpc <- "svydesign(id=~psu, strata=~stratum, weights=~w, fpc=~fpc_psu, data=synth_strat)"
for (rule in c("fail", "remove", "certainty", "average", "adjust")) {
  dn <- paste0("synth_lonely_", rule)
  add_design(dn, "synth_strat.csv", lonely_call,
             list(weights = "w", strata = "stratum", psu = "psu", lonely_psu = rule),
             sprintf("stratified cluster sample, strata S04 and S06 have one PSU, no fpc; lonely.psu=\"%s\"", rule),
             lonely = rule)
  dnf <- paste0("synth_lonely_fpc_", rule)
  add_design(dnf, "synth_strat.csv", lonely_call_fpc,
             list(weights = "w", strata = "stratum", psu = "psu", fpc = "fpc_psu", lonely_psu = rule),
             sprintf("as synth_lonely_%s with fpc: S04 lonely (1 of 5 PSUs), S06 a certainty PSU (1 of 1); lonely.psu=\"%s\"", rule, rule),
             lonely = rule)
  if (rule == "fail") {
    case_error(dn, "mean", "y", c("S04", "S06"))
    case_error(dnf, "mean", "y", c("S04"), "S06")  # S06 is a certainty PSU (fpc 1), not lonely
    next
  }
  for (d in c(dn, dnf)) {
    case_mean(d, "y")
    case_total(d, "y")
    case_ratio(d, "y", "x2")
    case_glm(d, "ols", "y ~ x1 + x2")
  }
  case_prop(dn, "grp")
  case_quantile(dn, "y")
  case_glm(dn, "logit", "ybin ~ x1 + x2")
  case_glm(dn, "poisson", "ycount ~ x1 + x2")
  case_by(dn, "mean", "y", "grp")
  case_by(dn, "total", "y", "grp")
}

add_design("synth_merged", "synth_strat.csv",
           "svydesign(id=~psu, strata=~stratum_m, weights=~w, data=synth_strat)",
           list(weights = "w", strata = "stratum_m", psu = "psu"),
           "synth_strat with merged strata stratum_m (3, 2, 5, 4 PSUs), no fpc: the Taylor counterpart of synth_merged_jkn")

# --- synth_pairs: nest=TRUE, stratified two-stage, zero weights -------------------------------------
add_design("synth_pairs_nest", "synth_pairs.csv",
           "svydesign(id=~psu_in_stratum, strata=~stratum, weights=~w, nest=TRUE, data=synth_pairs)",
           list(weights = "w", strata = "stratum", psu = "psu_in_stratum", nest = TRUE),
           "12 strata x 2 PSUs, PSU labels 1/2 repeated across strata, nest=TRUE, no fpc")
add_design("synth_pairs_nest_fpc", "synth_pairs.csv",
           "svydesign(id=~psu_in_stratum, strata=~stratum, weights=~w, fpc=~fpc_psu, nest=TRUE, data=synth_pairs)",
           list(weights = "w", strata = "stratum", psu = "psu_in_stratum", fpc = "fpc_psu", nest = TRUE),
           "as synth_pairs_nest with first-stage fpc")
add_design("synth_pairs_twostage_fpc", "synth_pairs.csv",
           "svydesign(id=~psu_in_stratum+unit, strata=~stratum, weights=~w, fpc=~fpc_psu+fpc_unit, nest=TRUE, data=synth_pairs)",
           list(weights = "w", strata = "stratum", psu = I(c("psu_in_stratum", "unit")),
                fpc = I(c("fpc_psu", "fpc_unit")), nest = TRUE),
           "stratified two-stage sample (PSUs, then units) with fpc at both stages, nest=TRUE: full multistage variance")
add_design("synth_pairs_zero_weights", "synth_pairs.csv",
           "svydesign(id=~psu, strata=~stratum, weights=~w_zero, data=synth_pairs)",
           list(weights = "w_zero", strata = "stratum", psu = "psu"),
           "12 strata x 2 PSUs (unique ids), weight 0 on one row of P01 and on all rows of PSU 302 (P03)")
for (dn in c("synth_pairs_nest", "synth_pairs_nest_fpc", "synth_pairs_twostage_fpc",
             "synth_pairs_zero_weights")) {
  case_mean(dn, "y")
  case_total(dn, "y")
  case_ratio(dn, "y", "x2")
  case_prop(dn, "grp")
  case_quantile(dn, "y")
  case_by(dn, "mean", "y", "grp")
  case_by(dn, "total", "y", "grp")
  case_by(dn, "ratio", "y", "grp", den = "x2")
  case_glm(dn, "ols", "y ~ x1 + x2")
  case_glm(dn, "logit", "ybin ~ x1 + x2")
  case_glm(dn, "probit", "ybin ~ x1 + x2")
  case_glm(dn, "poisson", "ycount ~ x1 + x2")
}

# --- replicate designs (columns exported above; rebuilt with svrepdesign(combined.weights=TRUE)) ---
cols <- function(prefix, k) I(paste0(prefix, "_", seq_len(k)))

add_design("apiclus1_jk1", "apiclus1.csv",
           sprintf("svrepdesign(data=apiclus1, repweights=\"^jk1_\", weights=~pw, type=\"JK1\", scale=%s, combined.weights=TRUE, mse=FALSE)", sprintf("%.17g", jk1_scale)),
           list(weights = "pw", replicate_weights = cols("jk1", 15), replicate_type = "JK1", scale = jk1_scale, mse = FALSE),
           "JK1 replicates of apiclus1_fpc: as.svrepdesign(svydesign(id=~dnum, weights=~pw, fpc=~fpc, data=apiclus1), type=\"JK1\"); scale = (1 - 15/757) * 14/15",
           replicate = list(type = "JK1", scale = jk1_scale, rscales = I(rep(1, 15)), mse = FALSE))
add_design("apiclus1_jk1_mse", "apiclus1.csv",
           sprintf("svrepdesign(data=apiclus1, repweights=\"^jk1_\", weights=~pw, type=\"JK1\", scale=%s, combined.weights=TRUE, mse=TRUE)", sprintf("%.17g", jk1_scale)),
           list(weights = "pw", replicate_weights = cols("jk1", 15), replicate_type = "JK1", scale = jk1_scale, mse = TRUE),
           "as apiclus1_jk1 with mse=TRUE (deviations from the full-sample estimate)",
           replicate = list(type = "JK1", scale = jk1_scale, rscales = I(rep(1, 15)), mse = TRUE))
add_design("synth_merged_jkn", "synth_strat.csv",
           "svrepdesign(data=synth_strat, repweights=\"^jkn_\", weights=~w, type=\"JKn\", scale=1, rscales=jkn_rscales, combined.weights=TRUE, mse=FALSE)",
           list(weights = "w", replicate_weights = cols("jkn", length(jkn_rscales)), replicate_type = "JKn",
                scale = 1, rscales = I(jkn_rscales), mse = FALSE),
           "JKn replicates of synth_merged: as.svrepdesign(svydesign(id=~psu, strata=~stratum_m, weights=~w, data=synth_strat), type=\"JKn\"); rscales (n_h-1)/n_h, n_h = 3, 2, 5, 4",
           replicate = list(type = "JKn", scale = 1, rscales = I(jkn_rscales), mse = FALSE))
add_design("apistrat_boot", "apistrat.csv",
           sprintf("svrepdesign(data=apistrat, repweights=\"^boot_\", weights=~pw, type=\"bootstrap\", scale=%s, combined.weights=TRUE, mse=FALSE)", sprintf("%.17g", boot_scale)),
           list(weights = "pw", replicate_weights = cols("boot", 50), replicate_type = "bootstrap", scale = boot_scale, mse = FALSE),
           "50 bootstrap replicates of apistrat_fpc: set.seed(20240612); as.svrepdesign(svydesign(id=~1, strata=~stype, weights=~pw, fpc=~fpc, data=apistrat), type=\"bootstrap\", replicates=50)",
           replicate = list(type = "bootstrap", scale = boot_scale, rscales = I(rep(1, 50)), mse = FALSE))
add_design("synth_pairs_brr", "synth_pairs.csv",
           "svrepdesign(data=synth_pairs, repweights=\"^brr_\", weights=~w, type=\"BRR\", combined.weights=TRUE, mse=FALSE)",
           list(weights = "w", replicate_weights = cols("brr", rep_info$brr$n), replicate_type = "BRR", mse = FALSE),
           "BRR half-samples (16, Hadamard) of synth_pairs_nest: as.svrepdesign(svydesign(id=~psu_in_stratum, strata=~stratum, weights=~w, nest=TRUE, data=synth_pairs), type=\"BRR\"); scale 1/16",
           replicate = list(type = "BRR", scale = rep_info$brr$scale, rscales = I(rep_info$brr$rscales), mse = FALSE))
add_design("synth_pairs_fay", "synth_pairs.csv",
           "svrepdesign(data=synth_pairs, repweights=\"^fay_\", weights=~w, type=\"Fay\", rho=0.3, combined.weights=TRUE, mse=FALSE)",
           list(weights = "w", replicate_weights = cols("fay", rep_info$fay$n), replicate_type = "Fay", fay_rho = 0.3, mse = FALSE),
           "Fay's BRR, rho=0.3, of synth_pairs_nest: as.svrepdesign(..., type=\"Fay\", fay.rho=0.3); scale 1/(16*(1-0.3)^2)",
           replicate = list(type = "Fay", scale = rep_info$fay$scale, rscales = I(rep_info$fay$rscales), mse = FALSE, fay_rho = 0.3))

# the rebuilt replicate designs reproduce as.svrepdesign()'s numbers
chk <- function(a, b) stopifnot(isTRUE(all.equal(unclass(a), unclass(b), tolerance = 1e-9, check.attributes = FALSE)))
chk(SE(svymean(~api00, apiclus1_jk1)), SE(svymean(~api00, rep_info$jk1$rep)))
chk(SE(svymean(~y, synth_merged_jkn)), SE(svymean(~y, rep_info$jkn$rep)))
chk(SE(svymean(~api00, apistrat_boot)), SE(svymean(~api00, rep_info$boot$rep)))
chk(SE(svymean(~y, synth_pairs_brr)), SE(svymean(~y, rep_info$brr$rep)))
chk(SE(svymean(~y, synth_pairs_fay)), SE(svymean(~y, rep_info$fay$rep)))

for (dn in c("apiclus1_jk1", "apiclus1_jk1_mse", "apistrat_boot")) {
  case_mean(dn, "api00", deff = FALSE)
  case_total(dn, "enroll", deff = FALSE)
  case_ratio(dn, "api00", "api99")
  case_prop(dn, "sch_wide", deff = FALSE)
  case_by(dn, "mean", "api00", "stype")
  case_by(dn, "ratio", "api00", "stype", den = "api99")
  case_glm(dn, "ols", "api00 ~ ell + meals")
  case_glm(dn, "logit", "sch_wide01 ~ ell + meals")
}
case_glm("apiclus1_jk1", "probit", "sch_wide01 ~ ell + meals")
case_glm("apiclus1_jk1", "poisson", "enroll ~ ell + meals")
for (dn in c("synth_merged", "synth_merged_jkn")) {
  case_mean(dn, "y", deff = dn == "synth_merged")
  case_total(dn, "y", deff = dn == "synth_merged")
  case_ratio(dn, "y", "x2")
  case_by(dn, "mean", "y", "grp")
  case_glm(dn, "ols", "y ~ x1 + x2")
  case_glm(dn, "logit", "ybin ~ x1 + x2")
  case_glm(dn, "poisson", "ycount ~ x1 + x2")
}
for (dn in c("synth_pairs_brr", "synth_pairs_fay")) {
  case_mean(dn, "y", deff = FALSE)
  case_total(dn, "y", deff = FALSE)
  case_ratio(dn, "y", "x2")
  case_prop(dn, "grp", deff = FALSE)
  case_by(dn, "mean", "y", "grp")
  case_glm(dn, "ols", "y ~ x1 + x2")
  case_glm(dn, "logit", "ybin ~ x1 + x2")
  case_glm(dn, "probit", "ybin ~ x1 + x2")
  case_glm(dn, "poisson", "ycount ~ x1 + x2")
}

# ------------------------------------------------------------------------------------------------
# 5. JSON
# ------------------------------------------------------------------------------------------------
ids <- vapply(cases, function(c) c$id, "")
if (any(duplicated(ids))) stop("duplicated case ids: ", paste(ids[duplicated(ids)], collapse = ", "))

header <- list(
  generated_by = "Rscript tests/reference/r/survey/make_survey_reference.R",
  r_version = R.version.string,
  survey_version = as.character(packageVersion("survey")),
  r_options = list(survey.lonely.psu = "per design (r_options)", survey.replicates.mse = FALSE,
                   survey.adjust.domain.lonely = FALSE, survey.ultimate.cluster = FALSE),
  conventions = "see tests/reference/r/survey/README.md",
  ci_rule = "mean/total/ratio/proportion (also by-domain): estimate +- qt(0.975, df) * se with df = degf(full design) (R's confint(, df=degf(design))); glm/iv: coef +- qt(0.975, df.residual) * se (= confint.svyglm's Wald interval); quantile: the Woodruff interval of svyquantile(ci=TRUE)"
)
lines <- c("{",
           paste0(vapply(names(header), function(k) paste0("  ", jstr(k), ": ", to_json(header[[k]])), ""), ","),
           "  \"designs\": {",
           paste0("    ", jstr(names(designs)), ": ", vapply(designs, to_json, ""),
                  c(rep(",", length(designs) - 1), "")),
           "  },",
           "  \"cases\": [",
           paste0("    ", vapply(cases, to_json, ""), c(rep(",", length(cases) - 1), "")),
           "  ]",
           "}")
writeLines(lines, file.path(out_dir, "survey_reference.json"))
cat(sprintf("wrote %d designs and %d cases to %s\n", length(designs), length(cases),
            file.path(out_dir, "survey_reference.json")))
