/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The part of <elf.h> that policy/runtime.c reads, for toolchains without it
 * (mingw-w64). Runtime detection parses ELF files as plain bytes, so the
 * Windows build can run the same code and tests unchanged; the layout and
 * values are the System V ABI's (glibc's <elf.h> has the same).
 */

#include <stdint.h>

#define EI_NIDENT   16
#define EI_CLASS    4
#define EI_DATA     5
#define ELFMAG      "\177ELF"
#define SELFMAG     4
#define ELFCLASS64  2
#define ELFDATA2LSB 1

#define PT_LOAD    1
#define PT_DYNAMIC 2
#define PT_INTERP  3

#define DT_NULL   0
#define DT_NEEDED 1
#define DT_STRTAB 5

typedef struct {
        unsigned char e_ident[EI_NIDENT];
        uint16_t e_type;
        uint16_t e_machine;
        uint32_t e_version;
        uint64_t e_entry;
        uint64_t e_phoff;
        uint64_t e_shoff;
        uint32_t e_flags;
        uint16_t e_ehsize;
        uint16_t e_phentsize;
        uint16_t e_phnum;
        uint16_t e_shentsize;
        uint16_t e_shnum;
        uint16_t e_shstrndx;
} Elf64_Ehdr;

typedef struct {
        uint32_t p_type;
        uint32_t p_flags;
        uint64_t p_offset;
        uint64_t p_vaddr;
        uint64_t p_paddr;
        uint64_t p_filesz;
        uint64_t p_memsz;
        uint64_t p_align;
} Elf64_Phdr;

typedef struct {
        uint32_t sh_name;
        uint32_t sh_type;
        uint64_t sh_flags;
        uint64_t sh_addr;
        uint64_t sh_offset;
        uint64_t sh_size;
        uint32_t sh_link;
        uint32_t sh_info;
        uint64_t sh_addralign;
        uint64_t sh_entsize;
} Elf64_Shdr;

typedef struct {
        int64_t d_tag;
        union {
                uint64_t d_val;
                uint64_t d_ptr;
        } d_un;
} Elf64_Dyn;
