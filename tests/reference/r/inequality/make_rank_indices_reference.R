# Reference values for ik.lorenz, ik.quantile_shares, ik.qsr, ik.sen, ik.concentration_index, ik.kakwani and
# ik.gini(convention="convey") (tests/python/test_rank_indices.py).
# Run from the repository root: Rscript tests/reference/r/inequality/make_rank_indices_reference.R
# (Debian: r-cran-survey r-cran-laeken). Writes rank_indices_reference.json next to this file.
# Data: laeken's eusilc (python/impactkit/datasets/data/eusilc.csv), design svydesign(ids = ~db030,
# strata = ~db040, weights = ~rb050) (households as PSUs within regions).
#  - QSR: laeken::qsr (point estimate, overall and by region db040).
#  - Standard errors: linearised variables written out here in plain R from the published formulas
#    (Kovacevic & Binder 1997 for partial totals; Kakwani, Wagstaff & van Doorslaer 1997 and Langel & Tille
#    2013 for rank indices; convey's svygini contrast for the convey Gini), SE by svytotal of the
#    linearised variable on the design (domains: the variable set to 0 outside the domain).
#  - Concentration index point estimates also from the "convenient regression" (Kakwani, Wagstaff & van
#    Doorslaer 1997): lm of 2 var(R) h / mu on the fractional rank R (weighted), slope = C.
suppressMessages({library(survey); library(laeken)})
out_dir <- file.path("tests", "reference", "r", "inequality")
if (!dir.exists(out_dir)) stop("run from the repository root")
source(file.path("tests", "reference", "r", "json_writer.R"))
cases <- list()
e <- read.csv(file.path("python", "impactkit", "datasets", "data", "eusilc.csv"))
y <- e$eqIncome; w <- e$rb050
regions <- sort(unique(e$db040))
svy_se <- function(lin) {   # SE (or vcov) of the totals of the columns of lin (psi = w * lin)
  lin <- as.matrix(lin); colnames(lin) <- paste0("l", seq_len(ncol(lin)))
  de <- svydesign(ids = ~db030, strata = ~db040, weights = ~rb050, data = cbind(e, lin))
  t <- svytotal(as.formula(paste("~", paste(colnames(lin), collapse = "+"))), de)
  list(se = unname(SE(t)), vcov = unname(as.matrix(vcov(t))), df = degf(de))
}
wq <- function(y, w, p) if (p >= 1) max(y[w > 0]) else unname(weightedQuantile(y, w, p))

# Lorenz ordinates and quintile shares: T_p = sum w y 1{y < Q} + (p N - sum w 1{y < Q}) Q with Q the lower
# weighted p-quantile (first value whose cumulative weight reaches p N); IF(T_p) = (y - Q) 1{y <= Q} + p Q
lower_q <- function(y, w, p) {
  o <- order(y); ys <- y[o]; ws <- w[o]; keep <- ws > 0; ys <- ys[keep]; ws <- ws[keep]
  if (p >= 1) return(max(ys))
  ys[which(cumsum(ws) / sum(ws) >= p)[1]]
}
partial_total <- function(y, w, p) {
  Q <- lower_q(y, w, p); below <- y < Q
  frac <- min(max(p * sum(w) - sum(w[below]), 0), sum(w[y == Q]))
  c(Q = Q, T = sum(w[below] * y[below]) + frac * Q)
}
p <- c(0.1, 0.2, 0.25, 0.5, 0.8, 0.9, 1)
lorenz_lin <- function(y, w, p, generalized) {
  N <- sum(w); Y <- sum(w * y)
  est <- numeric(length(p)); lin <- matrix(0, length(y), length(p))
  for (j in seq_along(p)) {
    pt <- partial_total(y, w, p[j]); Q <- pt[["Q"]]; Tp <- pt[["T"]]
    ifT <- (y - Q) * (y <= Q) + p[j] * Q
    if (generalized) { est[j] <- Tp / N; lin[, j] <- (ifT - est[j]) / N }
    else { est[j] <- Tp / Y; lin[, j] <- (ifT - est[j] * y) / Y }
  }
  list(est = est, lin = lin)
}
for (gen in c(FALSE, TRUE)) {
  l <- lorenz_lin(y, w, p, gen); s <- svy_se(l$lin)
  cases[[if (gen) "generalized_lorenz" else "lorenz"]] <- list(p = p, estimate = l$est, se = s$se, vcov = s$vcov, df = s$df,
    call = "T_p / (Y or N), T_p the weighted welfare of the poorest share p (tie run at the lower quantile split); svytotal of the linearised variables")
}
# by region (domain estimates on the full design)
est <- c(); se <- c()
for (r in regions) {
  idx <- e$db040 == r
  l <- lorenz_lin(y[idx], w[idx], c(0.2, 0.5), FALSE)
  lin <- matrix(0, nrow(e), 2); lin[idx, ] <- l$lin
  est <- c(est, l$est); se <- c(se, svy_se(lin)$se)
}
cases[["lorenz_by_region"]] <- list(p = c(0.2, 0.5), regions = regions, estimate = est, se = se)
# quintile shares: differences of L at 0.2, ..., 0.8 (and 1 - L(0.8))
l <- lorenz_lin(y, w, c(0.2, 0.4, 0.6, 0.8), FALSE)
A <- rbind(c(1, 0, 0, 0), c(-1, 1, 0, 0), c(0, -1, 1, 0), c(0, 0, -1, 1), c(0, 0, 0, -1))
sh <- as.vector(A %*% l$est) + c(0, 0, 0, 0, 1)
s <- svy_se(l$lin %*% t(A))
cases[["quintile_shares"]] <- list(estimate = sh, se = s$se, vcov = s$vcov, call = "differences of the Lorenz ordinates")

# QSR: laeken and the linearisation of the ratio of the top and bottom partial totals
qsr_lin <- function(y, w, lo = 0.2, hi = 0.8) {
  Ql <- wq(y, w, lo); Qh <- wq(y, w, hi)
  bottom <- sum(w * y * (y <= Ql)); top <- sum(w * y * (y > Qh)); R <- top / bottom
  if_bottom <- (y - Ql) * (y <= Ql) + lo * Ql
  if_top <- y - ((y - Qh) * (y <= Qh) + hi * Qh)
  list(est = R, lin = (if_top - R * if_bottom) / bottom)
}
q_all <- qsr_lin(y, w)
q_reg <- qsr(y, weights = w, breakdown = e$db040)
est <- c(); se <- c()
for (r in regions) {
  idx <- e$db040 == r
  ql <- qsr_lin(y[idx], w[idx]); lin <- numeric(nrow(e)); lin[idx] <- ql$lin
  est <- c(est, ql$est); se <- c(se, svy_se(lin)$se)
}
q10 <- qsr_lin(y, w, 0.1, 0.9)
cases[["qsr"]] <- list(laeken = unname(qsr(y, weights = w)$value), laeken_by_region = unname(q_reg$valueByStratum$value),
                       regions = as.character(q_reg$valueByStratum$stratum), estimate = q_all$est, se = svy_se(q_all$lin)$se,
                       by_region_estimate = est, by_region_se = se, s90_s10 = q10$est, s90_s10_se = svy_se(q10$lin)$se,
                       call = "laeken::qsr(eqIncome, weights = rb050, breakdown = db040); linearised ratio of partial totals")

# rank indices: mid-point fractional ranks of the ranking variable's tie runs
rank_lin <- function(r, h, w) {   # concentration index of h ranked by r, and its linearised variable
  o <- order(r); rs <- r[o]; hs <- h[o]; ws <- w[o]
  N <- sum(ws); Tt <- sum(ws * hs)
  run <- cumsum(c(TRUE, diff(rs) != 0))
  Wr <- tapply(ws, run, sum); Cb <- cumsum(Wr) - Wr
  Hr <- tapply(ws * hs, run, sum); Hb <- cumsum(Hr) - Hr
  Nk <- (Cb + Wr / 2)[run]; Hk <- (Hb + Hr / 2)[run]
  R <- Nk / N
  C <- 2 * sum(ws * hs * R) / Tt - 1
  u <- (2 * Nk * hs - 2 * Hk + Tt - N * hs - C * (Tt + N * hs)) / (N * Tt)
  out <- numeric(length(r)); out[o] <- u
  Rr <- numeric(length(r)); Rr[o] <- R
  list(C = C, u = out, R = Rr)
}
h <- e$hy070n
ci <- rank_lin(y, h, w)
mu <- sum(w * h) / sum(w)
varR <- sum(w * (ci$R - sum(w * ci$R) / sum(w))^2) / sum(w)
conv <- unname(coef(lm(I(2 * varR * h / mu) ~ ci$R, weights = w))[2])
gci_lin <- mu * ci$u + ci$C * (h - mu) / sum(w)
cases[["concentration_hy070n"]] <- list(estimate = ci$C, se = svy_se(ci$u)$se, convenient_regression = conv,
                                        generalized = mu * ci$C, generalized_se = svy_se(gci_lin)$se,
                                        call = "C of hy070n ranked by eqIncome; linearised, svytotal")
b <- as.numeric(h > 0)
cb <- rank_lin(y, b, w); mb <- sum(w * b) / sum(w)
uE <- 4 * (mb * cb$u + cb$C * (b - mb) / sum(w))
g <- (1 - mb) * mb
fW <- mb / g; dfW <- (g - mb * (1 - 2 * mb)) / g^2
uW <- fW * cb$u + cb$C * dfW * (b - mb) / sum(w)
cases[["concentration_binary"]] <- list(estimate = cb$C, se = svy_se(cb$u)$se, erreygers = 4 * mb * cb$C, erreygers_se = svy_se(uE)$se,
                                        wagstaff = cb$C / (1 - mb), wagstaff_se = svy_se(uW)$se,
                                        call = "C of 1{hy070n > 0} ranked by eqIncome; Erreygers 4 mu C, Wagstaff C / (1 - mu)")
gi <- rank_lin(y, y, w)
cases[["kakwani_hy070n"]] <- list(estimate = ci$C - gi$C, se = svy_se(ci$u - gi$u)$se, gini = gi$C,
                                  laeken_gini = unname(gini(y, weights = w)$value) / 100,
                                  call = "C(hy070n ranked by eqIncome) - Gini(eqIncome); linearised jointly")
# by region
est <- c(); se <- c()
for (r in regions) {
  idx <- e$db040 == r
  cr <- rank_lin(y[idx], h[idx], w[idx]); lin <- numeric(nrow(e)); lin[idx] <- cr$u
  est <- c(est, cr$C); se <- c(se, svy_se(lin)$se)
}
cases[["concentration_by_region"]] <- list(regions = regions, estimate = est, se = se)

# convey's Gini: sum((2 cumsum(w) - 1) w y)/(N T) - 1 and the linearised variable of its contrast of totals
convey_gini <- function(y, w) {
  o <- order(y); ys <- y[o]; ws <- w[o]
  N <- sum(ws); Y <- sum(ws * ys); r <- cumsum(ws); G <- cumsum(ws * ys)
  A <- sum(r * ws * ys); est <- (2 * A - Y) / (Y * N) - 1
  linA <- Y - G + ys * ws + r * ys           # T1 = sum r w y
  d1 <- 2 / (Y * N); d2 <- -1 / (Y * N) - (2 * A - Y) / (Y^2 * N); d3 <- -(2 * A - Y) / (Y * N^2)
  lin <- d1 * linA + d2 * ys + d3
  out <- numeric(length(y)); out[o] <- lin
  list(est = est, lin = out)
}
cg <- convey_gini(y, w)
cases[["gini_convey"]] <- list(estimate = cg$est, se = svy_se(cg$lin)$se,
                               call = "convey::svygini formula: (2 sum(r w y) - Y)/(N Y) - 1 with r = cumsum(w); contrast linearisation")

# Sen index with the fixed line z: H [I + (1 - I) G_p], G_p laeken's Gini among the poor
z <- 10000
sen_lin <- function(y, w, z, strict = TRUE) {
  N <- sum(w); poor <- if (strict) y < z else y <= z; H <- sum(w[poor]) / N; m <- sum(w[poor] * y[poor]) / N
  gp <- rank_lin(y[poor], y[poor], w[poor])
  uG <- numeric(length(y)); uG[poor] <- gp$u
  uH <- (poor - H) / N; um <- (y * poor - m) / N
  I <- 1 - (m / H) / z
  list(est = H * (I + (1 - I) * gp$C), lin = uH + (m * uG - (1 - gp$C) * um) / z, gini_poor = gp$C,
       laeken_gini_poor = unname(gini(y[poor], weights = w[poor])$value) / 100)
}
sl <- sen_lin(y, w, z)
cases[["sen"]] <- list(line = z, estimate = sl$est, se = svy_se(sl$lin)$se, gini_poor = sl$gini_poor,
                       laeken_gini_poor = sl$laeken_gini_poor, call = "H [I + (1 - I) G_p], z = 10000, y < z")

# Sen index with an estimated line z = s Q_p (laeken's weighted quantile): the line enters by linearisation,
# lin = lin(z fixed) + dS/dz IF(z), with IF(z) = -s (1{y <= Q} - p) / f(Q) (Osier 2009; convey's bandwidth
# h = sd N^(-1/5) and Gaussian density, as for FGT in make_inequality_reference.R) and, writing
# (1 - G_p) m = 2A - 2B/H (A = int_0^z y dF, B = int_0^z y F dF), dS/dz = f(z) (1 - 2B/(z H^2)) + (1 - G_p) m / z^2
# with 2B/(z H^2) = 2 sum_poor w y midN / (z P^2) (midN: mid-point cumulative weight of the tie run, P = sum_poor w).
sen_dz <- function(y, w, z, strict, h, gini_poor) {
  N <- sum(w); poor <- if (strict) y < z else y <= z
  ys <- y[poor]; ws <- w[poor]; o <- order(ys); ys <- ys[o]; ws <- ws[o]
  P <- sum(ws); m <- sum(ws * ys) / N
  run <- cumsum(c(TRUE, diff(ys) != 0)); Wr <- tapply(ws, run, sum); Nk <- ((cumsum(Wr) - Wr) + Wr / 2)[run]
  f <- sum(w * dnorm((z - y) / h) / h) / N
  f * (1 - 2 * sum(ws * ys * Nk) / (z * P^2)) + (1 - gini_poor) * m / z^2
}
sen_estimated <- function(s, p, strict, by_region = FALSE) {
  N <- sum(w); h <- sqrt((sum(w * y * y) - sum(w * y)^2 / N) / N) / exp(0.2 * log(N))
  Q <- unname(weightedQuantile(y, w, p)); z <- s * Q
  if_z <- -s * ((y <= Q) - p) / (sum(w * dnorm((Q - y) / h)) / h)
  groups <- if (by_region) lapply(regions, function(r) e$db040 == r) else list(rep(TRUE, length(y)))
  est <- c(); lin <- matrix(0, length(y), length(groups))
  for (g in seq_along(groups)) {
    idx <- groups[[g]]
    sl <- sen_lin(y[idx], w[idx], z, strict)
    est <- c(est, sl$est)
    lin[idx, g] <- sl$lin
    lin[, g] <- lin[, g] + sen_dz(y[idx], w[idx], z, strict, h, sl$gini_poor) * if_z
  }
  sv <- svy_se(lin)
  list(estimate = est, se = sv$se, vcov = sv$vcov, line = z, bandwidth = h, share = s, p = p, strict = strict)
}
cases[["sen_relative"]] <- c(sen_estimated(0.6, 0.5, TRUE), call = "Sen, z = 0.6 x weighted median (y < z), linearised line")
cases[["sen_bottom"]] <- c(sen_estimated(1, 0.2, FALSE), call = "Sen, z = Q_0.2 (y <= z), linearised line")
cases[["sen_relative_by_region"]] <- c(sen_estimated(0.6, 0.5, TRUE, by_region = TRUE),
                                       call = "Sen by region db040 (line over all rows), z = 0.6 x weighted median, linearised line")

# Replicate-weight designs: survey::withReplicates re-estimates each index under every JKn replicate of the
# targeting reference data (its replicate weights are targeting_repweights.csv); the index functions are
# laeken's (gini, qsr, arpr) or the plain-R ones above
td <- read.csv(file.path("tests", "reference", "r", "targeting", "targeting_data.csv"))
options(survey.lonely.psu = "fail")
rep <- as.svrepdesign(svydesign(ids = ~psu, strata = ~stratum, weights = ~w, nest = TRUE, data = td), type = "JKn", compress = FALSE)
stopifnot(max(abs(as.matrix(unclass(weights(rep, "analysis"))) -
                  as.matrix(read.csv(file.path("tests", "reference", "r", "targeting", "targeting_repweights.csv"))))) < 1e-9)
rep_case <- function(theta, call) {
  r <- withReplicates(rep, theta)
  list(estimate = unname(coef(r)), se = unname(SE(r)), call = call)
}
cases[["replicate_gini"]] <- rep_case(function(w, data) gini(data$welfare, w)$value / 100, "withReplicates(JKn, laeken::gini)")
cases[["replicate_qsr"]] <- rep_case(function(w, data) qsr(data$welfare, w)$value, "withReplicates(JKn, laeken::qsr)")
cases[["replicate_arpr"]] <- rep_case(function(w, data) arpr(data$welfare, w)$value / 100, "withReplicates(JKn, laeken::arpr rate)")
cases[["replicate_arpt"]] <- rep_case(function(w, data) arpr(data$welfare, w)$threshold, "withReplicates(JKn, laeken::arpr threshold)")
cases[["replicate_fgt1"]] <- rep_case(function(w, data) sum(w * (data$welfare < 20) * (20 - data$welfare) / 20) / sum(w),
                                      "withReplicates(JKn, FGT1 at line 20)")
cases[["replicate_lorenz"]] <- rep_case(function(w, data) c(partial_total(data$welfare, w, 0.2)[["T"]], partial_total(data$welfare, w, 0.5)[["T"]]) /
                                          sum(w * data$welfare), "withReplicates(JKn, L(0.2), L(0.5))")
cases[["replicate_concentration"]] <- rep_case(function(w, data) rank_lin(data$welfare, data$benefit, w)$C,
                                               "withReplicates(JKn, concentration index of benefit ranked by welfare)")
cases[["replicate_sen"]] <- rep_case(function(w, data) sen_lin(data$welfare, w, 20)$est, "withReplicates(JKn, Sen at line 20)")
cases[["replicate_design"]] <- list(rscales = rep$rscales, scale = rep$scale)
writeLines(to_json(cases), file.path(out_dir, "rank_indices_reference.json"))
cat("wrote", length(cases), "cases\n")
