/* test_configs.c - every shipped config (the .yaml files of configs/ and
 * configs/paper/) loads, validates and builds its model, without any dataset files: the model
 * is built for the dataset's shape (dataset_shape), as export does, so the
 * CIFAR configs are checked on a machine without CIFAR. Paper configs must
 * say where their settings come from (a "Sources:" comment). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "spec.h"
#include "spec_map.h"

/* Checks one config; returns 1 when it is a .yaml file (checked), 0 otherwise. */
static int check_config(const char *dir, const char *name, int paper) {
    size_t len = strlen(name);
    if (len < 6 || strcmp(name + len - 5, ".yaml")) return 0;
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    spec_t s;
    dp_err e = {0};
    cr_assert_eq(spec_load_file(&s, path, &e), 0, "%s: %s", name, e.msg);
    cr_assert_eq(spec_validate(&s, &e), 0, "%s: %s", name, e.msg);
    model_cfg m;
    cr_assert_eq(spec_model_cfg_for_data(&m, &s, &e), 0, "%s: %s", name, e.msg);
    net_t n;
    cr_assert_eq(net_build(&n, &m, &e), 0, "%s: %s", name, e.msg);
    cr_expect_gt(n.n_params, 0, "%s: no parameters", name);
    cr_log_info("%s: %s, %zu parameters", name, n.arch, n.n_params);
    net_free(&n);
    if (paper) {
        FILE *f = fopen(path, "r");
        cr_assert_not_null(f);
        char line[512];
        int sources = 0;
        while (fgets(line, sizeof line, f)) sources |= line[0] == '#' && strstr(line, "Sources:") != NULL;
        fclose(f);
        cr_expect(sources, "%s: no '# Sources:' comment saying where the settings come from", name);
    }
    return 1;
}

static int check_folder(const char *sub, int paper) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s", DPPF_SOURCE_DIR, sub);
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "cannot open %s", dir);
    int checked = 0;
    for (struct dirent *ent; (ent = readdir(d));) checked += check_config(dir, ent->d_name, paper);
    closedir(d);
    return checked;
}

Test(configs, every_config_loads_validates_and_builds) {
    cr_expect_geq(check_folder("configs", 0), 8);
}

Test(configs, every_paper_config_loads_validates_builds_and_cites) {
    cr_expect_geq(check_folder("configs/paper", 1), 14);
}
