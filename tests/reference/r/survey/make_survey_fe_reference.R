# Reference values from R `survey` for ik.ols(..., design=) with absorbed fixed effects
# ("y ~ x | fe"), checked by tests/python/test_survey_fixed_effects.py.
#
# Run from the repository root (R >= 4.2 with survey; reads the CSVs that make_survey_reference.R
# wrote, so both scripts see the same data):
#   Rscript tests/reference/r/survey/make_survey_fe_reference.R
# Writes tests/reference/r/survey/survey_fe_reference.json.
#
# The reference for a model with absorbed fixed effects is svyglm with the fixed effects written
# as factor dummies: by Frisch-Waugh-Lovell the slope coefficients are the same, and so are their
# linearised variances (the rows of the inverse information for the slopes applied to the full
# scores give the scores of the weighted-demeaned model). Stored per case: the slope estimates and
# SEs, svyglm's df.residual (= degf(design) + 1 - rank, the dummies counted in the rank) and
# df_nonnested, the df impactkit reports by default: a fixed-effect dimension whose every level lies
# inside one primary sampling unit counts one level instead of its number of levels (its scores sum
# to zero within every PSU; the fixest "nonnested" rule for clusters), and singleton levels (dropped
# by impactkit, a zero score in svyglm) are not counted.

suppressPackageStartupMessages(library(survey))
options(survey.lonely.psu = "fail", warn = 1)

out_dir <- file.path("tests", "reference", "r", "survey")
if (!dir.exists(out_dir)) stop("run from the repository root")
source(file.path("tests", "reference", "r", "json_writer.R"))
read_data <- function(file) read.csv(file.path(out_dir, file), stringsAsFactors = TRUE)

apiclus1 <- read_data("apiclus1.csv")
apiclus2 <- read_data("apiclus2.csv")
apistrat <- read_data("apistrat.csv")
synth_pairs <- read_data("synth_pairs.csv")

designs <- list(
  apiclus1_fpc = list(call = "svydesign(id=~dnum, weights=~pw, fpc=~fpc, data=apiclus1)", file = "apiclus1.csv",
                      python = list(weights = "pw", psu = "dnum", fpc = "fpc")),
  apiclus2_nofpc = list(call = "svydesign(id=~dnum+snum, weights=~pw, data=apiclus2)", file = "apiclus2.csv",
                        python = list(weights = "pw", psu = I(c("dnum", "snum")))),
  apistrat_clus = list(call = "svydesign(id=~dnum, strata=~stype, weights=~pw, nest=TRUE, data=apistrat)",
                       file = "apistrat.csv", python = list(weights = "pw", strata = "stype", psu = "dnum", nest = TRUE)),
  synth_pairs_twostage_fpc = list(
    call = "svydesign(id=~psu_in_stratum+unit, strata=~stratum, weights=~w, fpc=~fpc_psu+fpc_unit, nest=TRUE, data=synth_pairs)",
    file = "synth_pairs.csv",
    python = list(weights = "w", strata = "stratum", psu = I(c("psu_in_stratum", "unit")), fpc = I(c("fpc_psu", "fpc_unit")), nest = TRUE)),
  synth_pairs_zero_weights = list(call = "svydesign(id=~psu, strata=~stratum, weights=~w_zero, data=synth_pairs)",
                                  file = "synth_pairs.csv", python = list(weights = "w_zero", strata = "stratum", psu = "psu"))
)
for (dn in names(designs)) assign(dn, eval(parse(text = designs[[dn]]$call)))

cases <- list()
# formula: impactkit's "y ~ x1 + x2 | fe1 + fe2"; the svyglm formula has factor(fe) terms.
add_case <- function(dn, y, x, fe) {
  d <- get(dn)
  rhs <- paste(c(x, sprintf("factor(%s)", fe)), collapse = " + ")
  call <- sprintf("svyglm(%s ~ %s, design=%s)", y, rhs, dn)
  g <- withCallingHandlers(eval(parse(text = call)), warning = function(w) {
    if (grepl("zero weight not used", conditionMessage(w))) invokeRestart("muffleWarning")
  })
  b <- coef(g)
  stopifnot(!anyNA(b))  # no dummy aliased: the rank is the number of coefficients
  se <- SE(g)
  # rows used: complete cases with positive weight
  v <- d$variables
  used <- complete.cases(v[, c(y, x, fe)]) & weights(d, "sampling") > 0
  dd <- v[used, , drop = FALSE]
  # impactkit's k: slopes + absorbed levels (minus K-1 redundant), singleton levels dropped,
  # dimensions nested in the PSUs counted once
  psu <- d$cluster[used, 1]
  stopifnot(length(fe) <= 2)
  keep <- rep(TRUE, nrow(dd))
  repeat {  # iterative singleton removal
    single <- rep(FALSE, nrow(dd))
    for (f in fe) {
      cnt <- ave(rep(1, nrow(dd)), dd[[f]], keep, FUN = sum)
      single <- single | (keep & cnt == 1)
    }
    if (!any(single)) break
    keep <- keep & !single
  }
  k_fe <- 0
  for (f in fe) {
    lev <- dd[[f]][keep]
    nested <- all(tapply(as.character(psu[keep]), lev, function(p) length(unique(p))) == 1)
    k_fe <- k_fe + if (nested) 1 else length(unique(lev))
  }
  k_fe <- k_fe - (length(fe) - 1)
  # svyglm's degf is that of the rows used (missing values and zero weights out): start from its df
  df_nonnested <- g$df.residual + length(b) - (length(x) + k_fe)
  cases[[length(cases) + 1]] <<- list(
    id = paste(dn, y, paste(x, collapse = "+"), paste(fe, collapse = "+"), sep = "/"),
    design = dn, formula = sprintf("%s ~ %s | %s", y, paste(x, collapse = " + "), paste(fe, collapse = " + ")),
    r_call = call, terms = I(x), estimate = I(unname(b[x])), se = I(unname(se[x])),
    df_svyglm = g$df.residual, df_nonnested = df_nonnested, degf = degf(d),
    n_singletons = sum(!keep), nobs_used = sum(used))
}

add_case("apiclus1_fpc", "api00", c("ell", "meals"), "stype")            # FE crossing the PSUs
add_case("apiclus1_fpc", "api00", c("ell", "meals", "enroll"), "dnum")   # FE = the PSU (nested; a singleton district)
add_case("apiclus2_nofpc", "api00", c("ell", "meals", "enroll"), "stype") # enroll has 6 missing values
add_case("apistrat_clus", "api00", c("ell", "meals"), "stype")           # FE = the strata
add_case("apistrat_clus", "api00", c("ell", "meals"), c("stype", "awards"))  # two-way
add_case("synth_pairs_twostage_fpc", "y", c("x1", "x2"), "grp")        # multistage variance
add_case("synth_pairs_twostage_fpc", "y", c("x1"), c("grp", "psu"))     # two-way, one dimension nested in the PSUs
add_case("synth_pairs_zero_weights", "y", c("x1"), "grp")                # zero weights: rows out, PSUs kept

design_json <- lapply(designs, function(d) list(r_call = d$call, file = d$file, python = d$python))
out <- list(
  generated_by = "Rscript tests/reference/r/survey/make_survey_fe_reference.R",
  r_version = R.version.string, survey_version = as.character(packageVersion("survey")),
  convention = paste("svyglm with the fixed effects as factor dummies (gaussian); slopes and SE compare to 1e-10 relative;",
                     "df_svyglm = degf + 1 - rank; df_nonnested: fixed effects nested in the PSUs count one level, singletons not counted"),
  designs = design_json, cases = cases)
writeLines(to_json(out), file.path(out_dir, "survey_fe_reference.json"))
cat("wrote", length(cases), "cases\n")
