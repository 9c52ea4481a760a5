# Reference values for CR2 (Bell-McCaffrey bias-reduced cluster-robust variance with Satterthwaite
# degrees of freedom) and CR3, plus HC2/HC3, for tests/python/test_ols_cr2_reference.py.
#
# Run from the repository root (R >= 4.2 with clubSandwich, estimatr, sandwich):
#   Rscript tests/reference/r/make_cr2.R [data_dir]
# data_dir defaults to /work/shared/data (the shipped CSVs; python/impactkit/datasets/data holds
# the same files). Writes tests/reference/r/cr2_reference.csv; its header lines (starting with '#')
# record this command, the R and package versions and the column meanings.
#
# Conventions (see README.md here):
#   se_cr2, df_satterthwaite, p_value: clubSandwich::vcovCR(type = "CR2") and
#     coef_test(test = "Satterthwaite"). For weighted fits with inverse_var = TRUE, i.e. working
#     model / target = inverse weights, in clubSandwich's form A_g = D'(D M_g D')^(-1/2) D,
#     D = chol(W_g^-1), M_g = W_g^-1 - X_g (X'WX)^-1 X_g'. clubSandwich's *default* for a weighted
#     lm is inverse_var = FALSE with target = identity; those numbers are in
#     se_cr2_target_identity / df_target_identity.
#   se_cr2_transformed, df_transformed, p_transformed: clubSandwich CR2/Satterthwaite of the explicitly
#     sqrt(w)-transformed model lm(sqrt(w)*y ~ 0 + sqrt(w)*X) fitted without weights (for unweighted
#     fits: equal to se_cr2/df_satterthwaite).
#   se_cr3: clubSandwich::vcovCR(type = "CR3") (jackknife (I - H_gg)^-1, no further factor).
#   se_hc2, se_hc3: sandwich::vcovHC(type = "HC2"/"HC3").
#   se_cr2_estimatr, df_estimatr: estimatr::lm_robust(se_type = "CR2") (cross-check).

suppressPackageStartupMessages({
  library(clubSandwich)
  library(estimatr)
  library(sandwich)
})

args <- commandArgs(trailingOnly = TRUE)
data_dir <- if (length(args) >= 1) args[[1]] else "/work/shared/data"
out_file <- file.path("tests", "reference", "r", "cr2_reference.csv")
if (!dir.exists(dirname(out_file))) stop("run from the repository root")

read <- function(f) read.csv(file.path(data_dir, f))

lalonde <- read("lalonde_nsw_dw.csv")
lalonde$agegrp <- lalonde$age %/% 5
lalonde$w <- 1 + lalonde$educ / 10

thornton <- read("thornton_hiv.csv")
thornton <- thornton[complete.cases(thornton[, c("got", "any", "age", "distvct", "villnum")]), ]
thornton$w <- 1 + thornton$distvct / 2

ck <- read("card_krueger.csv")
ck <- ck[!is.na(ck$fte), ]

f_lalonde <- re78 ~ treat + age + educ + black + hisp + married + nodegr + re74 + re75
f_thornton <- got ~ any + age + distvct
f_ck <- fte ~ nj + d + d_nj

models <- list(
  list(name = "thornton_villnum", formula = f_thornton, data = thornton, cluster = "villnum", weights = NULL),
  list(name = "thornton_villnum_wls", formula = f_thornton, data = thornton, cluster = "villnum", weights = "w"),
  list(name = "lalonde_agegrp", formula = f_lalonde, data = lalonde, cluster = "agegrp", weights = NULL),
  list(name = "lalonde_agegrp_wls", formula = f_lalonde, data = lalonde, cluster = "agegrp", weights = "w"),
  list(name = "card_krueger_id", formula = f_ck, data = ck, cluster = "id", weights = NULL)
)

rows <- list()
for (m in models) {
  d <- m$data
  cl <- d[[m$cluster]]
  if (is.null(m$weights)) {
    fit <- lm(m$formula, data = d)
    er <- lm_robust(m$formula, data = d, clusters = cl, se_type = "CR2")
  } else {
    d$.w <- d[[m$weights]]
    fit <- lm(m$formula, data = d, weights = .w)
    er <- lm_robust(m$formula, data = d, clusters = cl, se_type = "CR2", weights = .w)
  }
  weighted <- !is.null(m$weights)
  V2 <- vcovCR(fit, cluster = cl, type = "CR2", inverse_var = weighted)
  t2 <- coef_test(fit, vcov = V2, test = "Satterthwaite")
  V2d <- vcovCR(fit, cluster = cl, type = "CR2")  # clubSandwich default target
  t2d <- coef_test(fit, vcov = V2d, test = "Satterthwaite")
  V3 <- vcovCR(fit, cluster = cl, type = "CR3")
  # CR2 of the explicitly sqrt(w)-transformed model, fitted unweighted (identity working model on
  # the transformed scale = inverse weights on the original scale): impactkit's convention.
  if (weighted) {
    mm <- model.matrix(fit)
    sw <- sqrt(d$.w)
    Xs <- mm * sw
    ys <- model.response(model.frame(fit)) * sw
    fit_t <- lm(ys ~ 0 + Xs)
    Vt <- vcovCR(fit_t, cluster = cl, type = "CR2")
    tt <- coef_test(fit_t, vcov = Vt, test = "Satterthwaite")
    se_t <- unname(sqrt(diag(Vt)))
    df_t <- tt$df_Satt
    p_t <- tt$p_Satt
  } else {
    se_t <- unname(sqrt(diag(V2)))
    df_t <- t2$df_Satt
    p_t <- t2$p_Satt
  }
  hc2 <- sqrt(diag(vcovHC(fit, type = "HC2")))
  hc3 <- sqrt(diag(vcovHC(fit, type = "HC3")))
  terms <- names(coef(fit))
  rows[[m$name]] <- data.frame(
    model = m$name,
    formula = paste(trimws(deparse(m$formula)), collapse = " "),
    cluster = m$cluster,
    weights = if (weighted) m$weights else "",
    n = nobs(fit),
    G = length(unique(cl)),
    term = ifelse(terms == "(Intercept)", "Intercept", terms),
    estimate = unname(coef(fit)),
    se_cr2 = unname(sqrt(diag(V2))),
    df_satterthwaite = t2$df_Satt,
    p_value = t2$p_Satt,
    se_cr3 = unname(sqrt(diag(V3))),
    se_hc2 = unname(hc2),
    se_hc3 = unname(hc3),
    se_cr2_transformed = se_t,
    df_transformed = df_t,
    p_transformed = p_t,
    se_cr2_target_identity = unname(sqrt(diag(V2d))),
    df_target_identity = t2d$df_Satt,
    se_cr2_estimatr = unname(er$std.error[terms]),
    df_estimatr = unname(er$df[terms]),
    stringsAsFactors = FALSE
  )
}
out <- do.call(rbind, rows)
num <- vapply(out, is.numeric, logical(1))
out[num] <- lapply(out[num], function(v) sprintf("%.17g", v))

header <- c(
  "# CR2/CR3/HC2/HC3 reference values; generated by tests/reference/r/make_cr2.R",
  "# command: Rscript tests/reference/r/make_cr2.R /work/shared/data   (from the repository root)",
  sprintf("# %s; clubSandwich %s; estimatr %s; sandwich %s", R.version.string,
          packageVersion("clubSandwich"), packageVersion("estimatr"), packageVersion("sandwich")),
  "# se_cr2/df_satterthwaite/p_value: clubSandwich vcovCR(type='CR2', inverse_var=<weighted>) + coef_test(test='Satterthwaite')",
  "#   (weighted fits: target = inverse weights, clubSandwich's A_g = D'(D M_g D')^(-1/2) D with D = chol(W_g^-1);",
  "#    NOT the CR2 of the sqrt(w)-transformed model when weights vary within a cluster: see se_cr2_transformed)",
  "# se_cr2_transformed/df_transformed/p_transformed: clubSandwich CR2 + Satterthwaite on lm(sqrt(w)*y ~ 0 + sqrt(w)*X), unweighted (= se_cr2 when unweighted)",
  "# se_cr2_target_identity/df_target_identity: clubSandwich defaults (weighted lm: inverse_var=FALSE, target=identity)",
  "# se_cr3: vcovCR(type='CR3'); se_hc2/se_hc3: sandwich::vcovHC; se_cr2_estimatr/df_estimatr: estimatr::lm_robust(se_type='CR2')"
)
con <- file(out_file, "w")
writeLines(header, con)
write.csv(out, con, row.names = FALSE)
close(con)
cat("wrote", out_file, "with", nrow(out), "rows\n")
