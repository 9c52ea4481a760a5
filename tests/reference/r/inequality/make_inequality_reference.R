# Reference values for ik.fgt, ik.watts and ik.gini (tests/python/test_inequality.py).
# Run from the repository root: Rscript tests/reference/r/inequality/make_inequality_reference.R
# (Debian: r-cran-survey r-cran-laeken). Writes inequality_reference.json next to this file.
#  - FGT(0, 1, 2) and Watts with a fixed line: svymean / svyby(svymean) of the per-row terms, the exact
#    linearisation (targeting data of tests/reference/r/targeting, stratified cluster design with FPC).
#  - FGT with an estimated relative line (0.6 x weighted median): an independent R implementation of
#    the linearisation (Osier 2009; convey's h_fun bandwidth and Gaussian density), SE by svytotal.
#  - Gini on laeken's eusilc (python/impactkit/datasets/data/eusilc.csv): laeken::gini (point estimate,
#    overall and by region db040), and the Langel & Tille (2013) linearised variable with mid-point
#    cumulative weights in tie runs, SE by svytotal under svydesign(ids = ~db030, strata = ~db040,
#    weights = ~rb050) (households as PSUs within regions).
suppressMessages({library(survey); library(laeken)})
out_dir <- file.path("tests", "reference", "r", "inequality")
if (!dir.exists(out_dir)) stop("run from the repository root")
source(file.path("tests", "reference", "r", "json_writer.R"))
cases <- list()

d <- read.csv(file.path("tests", "reference", "r", "targeting", "targeting_data.csv"))
z <- 20
y <- d$welfare
poor <- as.numeric(y < z)
d$fgt0 <- poor; d$fgt1 <- poor * (z - y) / z; d$fgt2 <- poor * ((z - y) / z)^2; d$watts <- poor * log(z / y)
des <- svydesign(ids = ~psu, strata = ~stratum, fpc = ~fpc, weights = ~w, nest = TRUE, data = d)
for (v in c("fgt0", "fgt1", "fgt2", "watts")) {
  m <- svymean(as.formula(paste0("~", v)), des)
  b <- svyby(as.formula(paste0("~", v)), ~sex, des, svymean)
  cases[[paste0(v, "_fixed")]] <- list(estimate = unname(coef(m)), se = unname(SE(m)),
                                       by_sex_estimate = unname(coef(b)), by_sex_se = unname(SE(b)), df = degf(des),
                                       call = paste0("svymean(~", v, ") and svyby(~", v, ", ~sex, svymean); line 20, y < z"))
}

# FGT with the relative line 0.6 x weighted median, by linearisation
w <- d$w; N <- sum(w)
h <- sqrt((sum(w * y * y) - sum(w * y)^2 / N) / N) / exp(0.2 * log(N))
Q <- weightedQuantile(y, w, 0.5); zr <- 0.6 * Q
if_z <- -0.6 * ((y <= Q) - 0.5) / (sum(w * dnorm((Q - y) / h)) / h)
for (alpha in 0:2) {
  pr <- as.numeric(y < zr)
  term <- if (alpha == 0) pr else pr * ((zr - y) / zr)^alpha
  slope <- if (alpha == 0) dnorm((zr - y) / h) / h else pr * alpha * ((zr - y) / zr)^(alpha - 1) * y / zr^2
  est <- sum(w * term) / N
  lin <- (term - est) / N + sum(w * slope) / N * if_z
  dl <- svydesign(ids = ~psu, strata = ~stratum, fpc = ~fpc, weights = ~w, nest = TRUE, data = transform(d, lin = lin))
  cases[[paste0("fgt", alpha, "_relative")]] <- list(estimate = est, se = unname(SE(svytotal(~lin, dl))), line = zr, bandwidth = h,
                                                     call = "linearised FGT, relative line 0.6 x laeken weighted median")
}


# Theil, mean log deviation and Atkinson(0.5, 1, 2): svycontrast of svytotal (exact linearisation)
d$one <- 1; d$ylogy <- y * log(y); d$logy <- log(y); d$y_half <- y^0.5; d$y_m1 <- y^(-1)
des <- svydesign(ids = ~psu, strata = ~stratum, fpc = ~fpc, weights = ~w, nest = TRUE, data = d)
tot <- svytotal(~one + welfare + ylogy + logy + y_half + y_m1, des)
ineq <- list(theil = quote(ylogy / welfare - log(welfare / one)),
             mld = quote(log(welfare / one) - logy / one),
             atkinson_0.5 = quote(1 - (y_half / one)^2 / (welfare / one)),
             atkinson_1 = quote(1 - exp(logy / one) / (welfare / one)),
             atkinson_2 = quote(1 - (y_m1 / one)^(-1) / (welfare / one)))
con <- svycontrast(tot, ineq)
totb <- svyby(~one + welfare + ylogy + logy + y_half + y_m1, ~sex, des, svytotal, covmat = TRUE)
for (nm in names(ineq)) {
  ex <- lapply(c("F", "M"), function(l) do.call(substitute, list(ineq[[nm]], lapply(setNames(nm = c("one", "welfare", "ylogy", "logy", "y_half", "y_m1")),
                                                                              function(v) as.name(paste0(l, ":", v))))))
  names(ex) <- c("F", "M")
  cb <- svycontrast(totb, ex)
  cases[[nm]] <- list(estimate = unname(coef(con)[nm]), se = unname(SE(con)[nm]), by_sex_estimate = unname(coef(cb)),
                      by_sex_se = unname(SE(cb)), df = degf(des), call = paste("svycontrast(svytotal(...),", deparse(ineq[[nm]]), ")"))
}

# Gini on eusilc
e <- read.csv(file.path("python", "impactkit", "datasets", "data", "eusilc.csv"))
g_all <- gini(e$eqIncome, weights = e$rb050)
g_reg <- gini(e$eqIncome, weights = e$rb050, breakdown = e$db040)
gini_lin <- function(y, w) {
  o <- order(y); ys <- y[o]; ws <- w[o]
  N <- sum(ws); Tt <- sum(ws * ys)
  G <- (2 * sum(ws * ys * cumsum(ws)) - sum(ws^2 * ys)) / (N * Tt) - 1
  # mid-point cumulative weight and welfare of each tie run
  run <- cumsum(c(TRUE, diff(ys) != 0))
  Wr <- tapply(ws, run, sum); Cend <- cumsum(Wr); Cbeg <- Cend - Wr
  Yr <- tapply(ws * ys, run, sum); Yend <- cumsum(Yr); Ybeg <- Yend - Yr
  Nk <- (Cbeg + Wr / 2)[run]; Yk <- (Ybeg + Yr / 2)[run]
  u <- (2 * Nk * ys - 2 * Yk + Tt - N * ys - G * (Tt + N * ys)) / (N * Tt)
  out <- numeric(length(y)); out[o] <- u
  list(G = G, u = out)
}
all <- gini_lin(e$eqIncome, e$rb050)
e$u_all <- all$u
regions <- sort(unique(e$db040))
reg_est <- c(); reg_se <- c()
e$u_dom <- 0
for (r in regions) {
  idx <- e$db040 == r
  gl <- gini_lin(e$eqIncome[idx], e$rb050[idx])
  e$u_dom <- 0; e$u_dom[idx] <- gl$u
  de <- svydesign(ids = ~db030, strata = ~db040, weights = ~rb050, data = e)
  reg_est <- c(reg_est, gl$G); reg_se <- c(reg_se, unname(SE(svytotal(~u_dom, de))))
}
de <- svydesign(ids = ~db030, strata = ~db040, weights = ~rb050, data = e)
cases[["gini_eusilc"]] <- list(laeken = unname(g_all$value) / 100, laeken_by_region = unname(g_reg$valueByStratum$value) / 100,
                               regions = as.character(g_reg$valueByStratum$stratum),
                               estimate = all$G, se = unname(SE(svytotal(~u_all, de))), by_region_estimate = reg_est,
                               by_region_se = reg_se, by_region_names = regions, df = degf(de),
                               call = "laeken::gini(eqIncome, weights = rb050, breakdown = db040); Langel-Tille linearisation, svydesign(ids=~db030, strata=~db040, weights=~rb050)")
a <- arpr(e$eqIncome, weights = e$rb050)
cases[["arpr_eusilc"]] <- list(rate = unname(a$value) / 100, threshold = unname(a$threshold),
                               call = "laeken::arpr(eqIncome, weights = rb050): 60% of the weighted median")
# Haughton & Khandker (2009): the ten-income Gini example
hk <- c(10, 15, 20, 25, 40, 20, 30, 35, 45, 90)
cases[["gini_haughton_khandker"]] <- list(laeken = unname(gini(hk)$value) / 100, published = 0.32727)
writeLines(to_json(cases), file.path(out_dir, "inequality_reference.json"))
cat("wrote", length(cases), "cases\n")
